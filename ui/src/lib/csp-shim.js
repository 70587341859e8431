// csp-shim.js - the server's Content-Security-Policy says style-src 'self':
// no <style> elements and no style="" attributes. Two libraries need them:
// xterm.js writes its theme and cell sizes into <style> elements it creates,
// and colours 24-bit text with setAttribute('style', ...). CodeMirror already
// uses constructed style sheets. This module, imported first, routes both to
// what CSP allows:
//  - document.createElement('style') returns an inert <template> element
//    standing in for it (a real <style>, even empty, is a CSP violation once
//    inserted): the text it is given goes into a constructed CSSStyleSheet
//    adopted by the document, removed again with the element's remove();
//  - setAttribute('style', text) becomes element.style.cssText = text (CSSOM).

const hasConstructedSheets =
  typeof CSSStyleSheet === 'function' &&
  'replaceSync' in CSSStyleSheet.prototype &&
  'adoptedStyleSheets' in Document.prototype;

function adopt(el, doc) {
  const sheet = new CSSStyleSheet();
  let text = '';
  let attached = false;
  const attach = () => {
    if (!attached) {
      doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
      attached = true;
    }
  };
  const detach = () => {
    if (attached) {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      attached = false;
    }
  };
  const set = (v) => {
    text = v == null ? '' : String(v);
    try {
      sheet.replaceSync(text);
    } catch {
      /* a rule the browser does not know: ignore, as a <style> would */
    }
    attach();
  };
  Object.defineProperty(el, 'textContent', { configurable: true, get: () => text, set });
  Object.defineProperty(el, 'innerHTML', { configurable: true, get: () => text, set });
  Object.defineProperty(el, 'sheet', { configurable: true, get: () => sheet });
  el.remove = function remove() {
    detach();
    Element.prototype.remove.call(this);
  };
}

if (hasConstructedSheets && !Document.prototype.createElement.__runitShim) {
  const create = Document.prototype.createElement;
  const patched = function createElement(tag, options) {
    if (typeof tag === 'string' && tag.toLowerCase() === 'style') {
      const el = create.call(this, 'template', options);
      el.dataset.runitStyle = '';
      adopt(el, this);
      return el;
    }
    return create.call(this, tag, options);
  };
  patched.__runitShim = true;
  Document.prototype.createElement = patched;
}

if (!Element.prototype.setAttribute.__runitShim) {
  const setAttribute = Element.prototype.setAttribute;
  const patched = function setAttributeCsp(name, value) {
    if (typeof name === 'string' && name.toLowerCase() === 'style' && this.style) {
      this.style.cssText = String(value);
      return;
    }
    setAttribute.call(this, name, value);
  };
  patched.__runitShim = true;
  Element.prototype.setAttribute = patched;
}
