// js_on_load of the conversation (#qa-conv); Gradio gives `element`, `trigger` and `watch`.
// Clicks on citations and buttons go to the server as actions; a question shows at once with
// "Searching…" under it, and each new turn is scrolled to the top of the chat.
const root = element;
const box = root.closest('#qa-conv') || root;
const opened = new Set(); // <details> the reader opened: a re-render would close them
let turns = root.querySelectorAll('.qa-turn').length;
let pinned = null; // the turn last brought to the top, kept there until the reader scrolls
let placed = 0; // where that left the scroll position

const send = (value) => trigger('select', { index: 0, value: value });
const log = () => root.querySelector('.qa-log') || root;

function toTop(turn) {
  pinned = turn;
  const top = turn.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTop = Math.max(0, top - 8);
  placed = box.scrollTop;
}

function pending(question) {
  // One at a time: Gradio ignores a second submit while the first is running.
  if (!question.trim() || root.querySelector('.qa-pending')) return;
  const turn = document.createElement('section');
  turn.className = 'qa-turn qa-pending';
  const asked = document.createElement('h2');
  asked.className = 'qa-q';
  asked.textContent = question;
  const wait = document.createElement('p');
  wait.className = 'qa-wait';
  wait.setAttribute('role', 'status');
  wait.textContent = 'Searching your articles…';
  turn.append(asked, wait);
  log().querySelector('.qa-welcome')?.setAttribute('hidden', '');
  log().append(turn);
  toTop(turn);
}

// The chat's height changes (the question box shrinks once sent, a panel opens): the last
// turn's minimum height follows, and a pinned question stays at the top.
function sized() {
  root.style.setProperty('--qa-box', box.clientHeight + 'px');
  if (pinned && root.contains(pinned)) toTop(pinned);
}
new ResizeObserver(sized).observe(box);
sized();
box.addEventListener('scroll', () => {
  if (Math.abs(box.scrollTop - placed) > 2) pinned = null; // the reader scrolled
});

root.addEventListener('click', (event) => {
  const el = event.target.closest('a[href^="#qa-"], [data-qa]');
  if (!el || !root.contains(el)) return;
  event.preventDefault();
  let action = el.dataset.qa || el.getAttribute('href');
  if (action.startsWith('why:')) {
    const field = el.closest('form')?.querySelector('textarea');
    action += ':' + (field ? field.value : '');
  }
  if (action.startsWith('ex:')) pending(action.slice(3));
  else window.qaOpener = el; // focus comes back here when the article closes
  send(action);
});

root.addEventListener('toggle', (event) => {
  const details = event.target;
  if (details.id) details.open ? opened.add(details.id) : opened.delete(details.id);
}, true);

root.addEventListener('input', (event) => {
  if (!event.target.matches('.qa-lib-filter')) return;
  const words = event.target.value.trim().toLowerCase();
  root.querySelectorAll('.qa-entries li').forEach((li) => {
    li.hidden = words !== '' && !li.textContent.toLowerCase().includes(words);
  });
});

// The question box and the Ask button belong to Gradio: listen before its own handlers.
document.addEventListener('keydown', (event) => {
  const field = event.target.closest && event.target.closest('#qa-question textarea');
  if (field && event.key === 'Enter' && !event.shiftKey && !event.isComposing) pending(field.value);
}, true);
document.addEventListener('click', (event) => {
  if (!event.target.closest || !event.target.closest('#qa-ask')) return;
  const field = document.querySelector('#qa-question textarea');
  if (field) pending(field.value);
}, true);

watch('value', () => {
  opened.forEach((id) => {
    const details = document.getElementById(id);
    if (details && root.contains(details)) details.open = true;
  });
  const all = root.querySelectorAll('.qa-turn');
  if (all.length > turns) toTop(all[all.length - 1]);
  if (all.length === 0) { // a new conversation: its answers reuse the old ones' numbers
    box.scrollTop = 0;
    pinned = null;
    opened.clear();
  }
  turns = all.length;
});
