// console.js - the run console: xterm.js showing a run's output, run
// separators and notices, and the keyboard for the program's stdin.
//
// Runs started here have a terminal (run/start's tty: PROTOCOL.md, "Terminal
// or pipes"): keystrokes go to the program as they are (onRaw), the
// terminal echoes them and edits the line; Ctrl+C is an interrupt, Ctrl+D
// end of input; the console's size follows the panel (onResize). Ctrl+C with
// text selected copies it instead. A run without a terminal (started through
// the API) has pipes: the console then echoes the line itself (in a dim
// colour), lets it be edited with Backspace, and sends it with Enter
// ("line\n"); Ctrl+D sends the line and closes stdin; Ctrl+C stops the run.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { currentTheme } from '../lib/theme.js';

// The console's colours in each page theme (4.5:1 for the text, ANSI
// colours readable on the background).
const THEMES = {
  dark: {
    background: '#10161d',
    foreground: '#e8edf2',
    cursor: '#e8edf2',
    selectionBackground: '#35506b',
    black: '#10161d',
    red: '#ff7b72',
    green: '#56d364',
    yellow: '#e3b341',
    blue: '#79c0ff',
    magenta: '#d2a8ff',
    cyan: '#76e3ea',
    white: '#e8edf2',
    brightBlack: '#8b949e',
    brightRed: '#ffa198',
    brightGreen: '#7ee787',
    brightYellow: '#f2cc60',
    brightBlue: '#a5d6ff',
    brightMagenta: '#e2c5ff',
    brightCyan: '#b3f0ff',
    brightWhite: '#ffffff',
  },
  light: {
    background: '#fbfcfd',
    foreground: '#1b1f24',
    cursor: '#1b1f24',
    selectionBackground: '#b6d3f7',
    black: '#1b1f24',
    red: '#b3261e',
    green: '#116329',
    yellow: '#7a5200',
    blue: '#0550ae',
    magenta: '#7a1fa2',
    cyan: '#0a5c6e',
    white: '#4f5862',
    brightBlack: '#5c6570',
    brightRed: '#a0310f',
    brightGreen: '#146c2e',
    brightYellow: '#6b4700',
    brightBlue: '#0842a0',
    brightMagenta: '#6a1b8f',
    brightCyan: '#0a4f5e',
    brightWhite: '#1b1f24',
  },
};

const CSI = '\x1b[';
const RESET = `${CSI}0m`;

export class RunConsole {
  // onInput(data, eof) sends a line to a program with pipes; canInput()
  // says whether a run of ours is live, isTty() whether it has a terminal;
  // onRaw(data) sends keystrokes to it; onInterrupt() is Ctrl+C with pipes;
  // onResize(cols, rows) tells the new size; onCopy(text) after a copy.
  constructor(parent, { onInput, canInput, onInterrupt, isTty = () => false, onRaw = () => {}, onResize = () => {}, onCopy = () => {} }) {
    this.term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      cursorStyle: 'bar',
      disableStdin: false,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      lineHeight: 1.2,
      scrollback: 10000,
      screenReaderMode: true,
      allowProposedApi: false,
      theme: THEMES[currentTheme()],
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(parent);
    this.parent = parent;
    this.line = '';
    this.atLineStart = true;
    this.onInput = onInput;
    this.canInput = canInput;
    this.onInterrupt = onInterrupt;
    this.isTty = isTty;
    this.onRaw = onRaw;
    this.onCopy = onCopy;
    this.keyHandler = null;
    this.term.onData((d) => this.typed(d));
    this.term.attachCustomKeyEventHandler((e) => this.key(e));
    this.ro = new ResizeObserver(() => this.refit());
    this.ro.observe(parent);
    this.refit();
    // after the first fit: later ones come from the ResizeObserver, never from here
    this.term.onResize(({ cols, rows }) => onResize(cols, rows));
  }

  // 'light' or 'dark' (lib/theme.js)
  setTheme(t) {
    this.term.options.theme = THEMES[t] || THEMES.dark;
  }

  // Everything in the console (scrollback included) as plain text.
  text() {
    const buf = this.term.buffer.active;
    const lines = [];
    for (let i = 0; i < buf.length; i++) {
      const line = buf.getLine(i);
      if (!line) continue;
      const s = line.translateToString(true);
      if (line.isWrapped && lines.length) lines[lines.length - 1] += s;
      else lines.push(s);
    }
    while (lines.length && !lines[lines.length - 1]) lines.pop();
    return lines.join('\n');
  }

  refit() {
    if (!this.parent.offsetWidth || !this.parent.offsetHeight) return;
    try {
      this.fit.fit();
    } catch {
      /* not visible yet */
    }
  }

  get cols() {
    return this.term.cols;
  }

  get rows() {
    return this.term.rows;
  }

  // More keys for the page (return false to keep a key from the program).
  setKeyHandler(fn) {
    this.keyHandler = fn;
  }

  // Ctrl+C (Cmd+C) with text selected copies it and goes no further: the
  // program gets no interrupt. The selection is cleared, so the next Ctrl+C
  // interrupts, as in Windows Terminal.
  key(e) {
    if (e.type === 'keydown' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === 'c' || e.key === 'C') && this.term.hasSelection()) {
      const text = this.term.getSelection();
      e.preventDefault();
      this.copy(text);
      this.term.clearSelection();
      return false;
    }
    return this.keyHandler ? this.keyHandler(e) : true;
  }

  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no clipboard API (an insecure origin): the old way
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.append(ta);
      ta.select();
      try {
        document.execCommand('copy');
      } catch {
        /* nothing more to try */
      }
      ta.remove();
      this.term.focus();
    }
    this.onCopy(text);
  }

  // Output of the program. From a terminal (raw) it is written as it is: the
  // terminal made \n into \r\n already. From pipes \n becomes \r\n (xterm
  // needs both) and stderr is red.
  output(stream, data, raw = false) {
    if (!data) return;
    if (raw) {
      this.term.write(data);
      this.atLineStart = /\n$/.test(data);
      return;
    }
    const text = data.replace(/\r?\n/g, '\r\n');
    if (stream === 'stderr') this.term.write(`${CSI}31m${text}${RESET}`);
    else this.term.write(text);
    this.atLineStart = /\n$/.test(data);
  }

  // A dim line of the console's own (run separators, exits).
  notice(text, color = '2') {
    const pre = this.atLineStart ? '' : '\r\n';
    this.term.write(`${pre}${CSI}${color}m${text}${RESET}\r\n`);
    this.atLineStart = true;
  }

  clear() {
    this.term.reset();
    this.line = '';
    this.atLineStart = true;
  }

  focus() {
    this.term.focus();
  }

  typed(d) {
    if (this.canInput() && this.isTty()) {
      this.onRaw(d); // the terminal echoes and edits; \x03 interrupts, \x04 ends input
      return;
    }
    if (!this.canInput()) {
      if (d === '\x03') this.onInterrupt();
      return;
    }
    for (const ch of d) {
      if (ch === '\r' || ch === '\n') {
        const line = `${this.line}\n`;
        this.line = '';
        this.term.write('\r\n');
        this.atLineStart = true;
        this.onInput(line, false);
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.line) {
          const chars = [...this.line];
          chars.pop();
          this.line = chars.join('');
          this.term.write('\b \b');
        }
      } else if (ch === '\x04') {
        const line = this.line;
        this.line = '';
        this.onInput(line, true);
        this.notice('[end of input]');
      } else if (ch === '\x03') {
        this.line = '';
        this.term.write('^C\r\n');
        this.onInterrupt();
      } else if (ch === '\x1b' || ch < ' ') {
        // escape sequences (arrows, function keys) and other controls: ignored
        if (ch === '\x1b') return;
      } else {
        this.line += ch;
        this.term.write(`${CSI}36m${ch}${RESET}`);
        this.atLineStart = false;
      }
    }
  }

  dispose() {
    this.ro.disconnect();
    this.term.dispose();
  }
}
