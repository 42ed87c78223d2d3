// js_on_load of the article pane (#qa-article): its close button (or Escape) closes it; an
// opened article scrolls to the quoted passage and takes the focus, a closed one gives it back.
const pane = element.closest('#qa-article') || element;
const close = () => trigger('select', { index: 0, value: 'close' });

element.addEventListener('click', (event) => {
  if (!event.target.closest('[data-qa="close"]')) return;
  event.preventDefault();
  close();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && element.querySelector('.qa-article')) close();
});

watch('value', () => {
  const open = element.querySelector('.qa-article');
  if (!open) {
    if (window.qaOpener && document.contains(window.qaOpener)) window.qaOpener.focus({ preventScroll: true });
    return;
  }
  const focus = element.querySelector('#qa-focus');
  const head = element.querySelector('.qa-art-head');
  pane.scrollTop = 0;
  if (focus) {
    const top = focus.getBoundingClientRect().top - pane.getBoundingClientRect().top;
    pane.scrollTop = Math.max(0, top - (head ? head.offsetHeight : 0) - pane.clientHeight / 4);
  }
  element.querySelector('#qa-art-title')?.focus({ preventScroll: true });
});
