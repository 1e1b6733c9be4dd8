"""The page's own script and styles for the chat: citation links, the phone's source drawer, scrolling.

Why a script: a chat message is Markdown that Gradio sanitizes, and its text is
also what "copy" copies and what a screen reader reads (the message's label),
so the server sends ``[n]`` as plain text.  Here each ``[n]`` of a finished
answer becomes a focusable link; a click (or Enter / Space) puts
``"message:n"`` in a hidden textbox and presses a hidden button, whose event
opens the source.  Messages are counted in page order (each message is one
row, as the server's chat history is).  Everything keys on our ``elem_id``s and
Gradio's stable ``message-row`` / ``bot-row`` names, never on hashed classes.
"""

from __future__ import annotations

SCRIPT = r"""
(() => {
  const phone = () => window.matchMedia('(max-width: 768px)').matches;
  const $ = (s) => document.querySelector(s);
  const openDrawer = () => {
    const col = $('#pr-source-col');
    if (col && phone()) { col.classList.add('pr-open'); col.scrollTop = 0; }
    window.__prOpening = Date.now();
  };
  const closeDrawer = () => { const col = $('#pr-source-col'); if (col) col.classList.remove('pr-open'); };
  window.prCloseSource = closeDrawer;
  const cite = (e) => {
    const a = e.target.closest && e.target.closest('a.pr-cite');
    if (!a) return;
    if (e.type === 'keydown' && e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault(); e.stopPropagation();
    const m = /^#pr-cite-(\d+)-(\d+)$/.exec(a.getAttribute('href') || '');
    const box = $('#pr-cite-key textarea, #pr-cite-key input');
    const go = $('#pr-cite-open');
    if (!m || !box || !go) return;
    box.value = m[1] + ':' + m[2];
    box.dispatchEvent(new Event('input', { bubbles: true }));
    openDrawer();
    setTimeout(() => go.click(), 0);
  };
  // [n] of finished answers (no streaming cursor) become links; text already linked is left alone.
  const linkify = () => {
    const rows = document.querySelectorAll('#pr-chat .message-row');
    rows.forEach((row, msg) => {
      if (!row.classList.contains('bot-row')) return;
      const body = row.querySelector('.message-content') || row;
      if (body.textContent.includes('▍') || !/\[\d{1,3}\]/.test(body.textContent)) return;
      const walk = document.createTreeWalker(body, NodeFilter.SHOW_TEXT, {
        acceptNode: (n) => (n.parentElement.closest('a, code, pre') || !/\[\d{1,3}\]/.test(n.data)
          ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
      });
      const found = [];
      while (walk.nextNode()) found.push(walk.currentNode);
      found.forEach((node) => {
        const frag = document.createDocumentFragment();
        let at = 0;
        node.data.replace(/\[(\d{1,3})\]/g, (all, n, i) => {
          frag.append(node.data.slice(at, i));
          const a = document.createElement('a');
          a.className = 'pr-cite'; a.href = `#pr-cite-${msg}-${n}`; a.textContent = all;
          a.setAttribute('role', 'button');
          a.setAttribute('aria-label', `منبع ${n} / source ${n}`);
          a.title = `بند منبع ${n} را باز کن / open source ${n}`;
          frag.append(a); at = i + all.length; return all;
        });
        frag.append(node.data.slice(at));
        node.replaceWith(frag);
      });
    });
  };
  document.addEventListener('click', cite, true);
  document.addEventListener('keydown', cite, true);
  document.addEventListener('click', (e) => {
    if (!e.target.closest) return;
    if (e.target.closest('.pr-chip')) openDrawer();
    if (e.target.closest('#pr-whole')) closeDrawer();  // the document opens in its own tab
  }, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDrawer(); });

  // The newest question goes to the top of the chat and stays there while its answer streams in,
  // so a long answer is read from its first sentence, not from wherever the stream ended.
  let asked = -1, sourceSeen = '', markSeen = null;
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) return p;
      if (p.id === 'pr-chat') break;
    }
    return null;
  };
  const check = () => {
    linkify();
    const users = document.querySelectorAll('#pr-chat .message-row.user-row');
    if (users.length !== asked) {
      const last = users[users.length - 1];
      asked = users.length;
      const box = last && scroller(last);
      if (box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const chat = $('#pr-chat');  // a phone: the chat fills the screen from its top while the answer comes
      if (last && chat && phone()) window.scrollBy(0, chat.getBoundingClientRect().top - 4);
    }
    const src = $('#pr-source .pr-source');
    const text = src ? src.textContent : '';
    if (src && text !== sourceSeen) {
      sourceSeen = text;
      if (!phone() && Date.now() - (window.__prOpening || 0) < 60000) {
        const r = src.getBoundingClientRect();
        if (r.top < 0 || r.top > window.innerHeight - 80) src.scrollIntoView({ block: 'start' });
      }
    }
    const mark = $('#pr-doc-view #pr-mark');
    if (mark && mark !== markSeen) { markSeen = mark; mark.scrollIntoView({ block: 'center' }); }
  };
  // At most once a frame, however many nodes a streamed answer replaces meanwhile.
  let pending = false;
  const soon = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; check(); });
  };
  new MutationObserver(soon).observe(document.documentElement, { childList: true, subtree: true });

  window.prDownload = (text, name) => {
    if (!text) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/markdown;charset=utf-8' }));
    a.download = name || 'conversation.md';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  };
})();
"""

CSS = """
a.pr-cite { text-decoration: none; font-weight: 600; padding: 0 2px; border-radius: 4px;
  color: var(--color-accent); cursor: pointer; }
a.pr-cite:hover, a.pr-cite:focus-visible { background: var(--color-accent-soft);
  outline: 2px solid var(--color-accent); }
#pr-source-close { display: none; }
#pr-conv-tools { gap: 6px; }
#pr-conv-tools button { flex: 0 0 auto; min-width: 0; }
.pr-cue { font-family: var(--font-mono); font-size: 0.8em; opacity: 0.75; margin-inline-end: 0.4em;
  white-space: nowrap; unicode-bidi: isolate; }
@media (max-width: 768px) {
  #pr-source-col.pr-open { position: fixed; inset: auto 0 0 0; max-height: 50vh; overflow: auto;
    z-index: 1000;
    background: var(--background-fill-primary); box-shadow: 0 -6px 18px rgba(0,0,0,0.3);
    border-radius: 12px 12px 0 0; padding: 8px 10px; margin: 0; }
  #pr-source-col.pr-open #pr-source-close { display: inline-flex; }
  #pr-chat { height: 58vh !important; max-height: 58vh; }
}
"""
