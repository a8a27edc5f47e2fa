// `v-field-invalid` on an ElForm: while one of its items is in error (the page's own rule or the server's
// field-named error through the item's `error`), that item's controls carry aria-invalid="true" and are
// described by the message under them, so assistive technology reads the field as invalid with its reason.
// Element marks the item with `is-error` and shows the message in `.el-form-item__error`, but leaves the
// controls' ARIA alone.
import type { Directive } from 'vue';

const CONTROLS = 'input:not([type=hidden]), select, textarea, [role=textbox]';
let next = 0;

function mark(form: HTMLElement): void {
  for (const item of form.querySelectorAll<HTMLElement>('.el-form-item')) {
    const invalid = item.classList.contains('is-error');
    const message = item.querySelector<HTMLElement>(
      ':scope > .el-form-item__error, .el-form-item__content > .el-form-item__error',
    );
    if (message && !message.id) message.id = `field-error-${++next}`;
    for (const control of item.querySelectorAll<HTMLElement>(CONTROLS)) {
      if (control.closest('.el-form-item') !== item) continue;
      if (invalid) {
        if (control.getAttribute('aria-invalid') !== 'true') control.setAttribute('aria-invalid', 'true');
        if (message && control.getAttribute('aria-describedby') !== message.id)
          control.setAttribute('aria-describedby', message.id);
      } else if (control.getAttribute('aria-invalid') === 'true') {
        control.setAttribute('aria-invalid', 'false');
        control.removeAttribute('aria-describedby');
      }
    }
  }
}

const observers = new WeakMap<HTMLElement, MutationObserver>();

export const vFieldInvalid: Directive<HTMLElement> = {
  mounted(el) {
    mark(el);
    const o = new MutationObserver(() => mark(el));
    o.observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    observers.set(el, o);
  },
  unmounted(el) {
    observers.get(el)?.disconnect();
    observers.delete(el);
  },
};
