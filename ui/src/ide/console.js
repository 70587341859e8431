// console.js - the run console: xterm.js showing stdout, stderr (in red),
// run separators and notices, with a line editor for the program's stdin.
//
// Runs have no TTY, so the program does not echo what is typed: the console
// echoes the line itself (in a dim colour), lets it be edited with
// Backspace, and sends it with Enter ("line\n"). Ctrl+D sends the line and
// closes stdin (end of file); Ctrl+C stops the run.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

const CSI = '\x1b[';
const RESET = `${CSI}0m`;

export class RunConsole {
  // onInput(data, eof) sends to the program; canInput() says whether a run
  // of ours is live; onInterrupt() is Ctrl+C.
  constructor(parent, { onInput, canInput, onInterrupt }) {
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
      theme: {
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
    this.term.onData((d) => this.typed(d));
    this.ro = new ResizeObserver(() => this.refit());
    this.ro.observe(parent);
    this.refit();
  }

  refit() {
    if (!this.parent.offsetWidth || !this.parent.offsetHeight) return;
    try {
      this.fit.fit();
    } catch {
      /* not visible yet */
    }
  }

  // Output of the program: \n becomes \r\n (xterm needs both); stderr red.
  output(stream, data) {
    if (!data) return;
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
