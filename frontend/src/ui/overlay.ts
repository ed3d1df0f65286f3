// Toasts and modal dialogs.
import { fmtDuration } from './render';
import { h } from './dom';
import type { Dialogs } from './ctx';

export class Toasts {
  readonly el = h('div', { class: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });

  show(level: 'info' | 'warn' | 'error', text: string, title?: string): void {
    const close = h('button', { class: 'toast-close', attrs: { 'aria-label': 'dismiss', type: 'button' } }, '×');
    const t = h('div', { class: `toast toast-${level}`, dataset: { level } }, title ? h('div', { class: 'toast-title' }, title) : null, h('div', { class: 'toast-text' }, text), close);
    close.addEventListener('click', () => t.remove());
    this.el.appendChild(t);
    while (this.el.childElementCount > 6) this.el.firstElementChild?.remove();
    window.setTimeout(() => t.remove(), level === 'error' ? 12_000 : 4_000);
  }
}

export class DialogHost implements Dialogs {
  readonly el = h('div', { class: 'dialog-host' });
  private open = false;

  isOpen(): boolean {
    return this.open;
  }

  private show<T>(build: (done: (v: T | null) => void) => { box: HTMLElement; focus: HTMLElement; submit: () => void }): Promise<T | null> {
    return new Promise((resolve) => {
      const prev = document.activeElement as HTMLElement | null;
      let finished = false;
      const done = (v: T | null) => {
        if (finished) return;
        finished = true;
        this.open = false;
        backdrop.remove();
        prev?.focus?.();
        resolve(v);
      };
      const { box, focus, submit } = build(done);
      const backdrop = h('div', { class: 'backdrop' }, box);
      backdrop.addEventListener('mousedown', (e) => {
        if (e.target === backdrop) done(null);
      });
      box.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          done(null);
        } else if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
          e.preventDefault();
          submit();
        }
        e.stopPropagation();
      });
      this.open = true;
      this.el.appendChild(backdrop);
      focus.focus();
    });
  }

  confirm(title: string, body: string, ok: string, withReason: boolean): Promise<{ reason: string } | null> {
    return this.show<{ reason: string }>((done) => {
      const reason = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'reason (optional)', maxlength: 500, 'data-testid': 'dialog-reason' } });
      const submit = () => done({ reason: reason.value.trim() });
      const okBtn = h('button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-testid': 'confirm-ok' }, on: { click: submit } }, ok);
      const box = h('div', { class: 'dialog', attrs: { role: 'dialog', 'aria-modal': 'true' } },
        h('h2', null, title),
        h('p', { class: 'dialog-body' }, body),
        withReason ? reason : null,
        h('div', { class: 'dialog-buttons' },
          h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => done(null) } }, 'Cancel'),
          okBtn));
      return { box, focus: withReason ? reason : okBtn, submit };
    });
  }

  timeout(title: string, presets: number[], note?: string): Promise<{ seconds: number; reason: string } | null> {
    return this.show<{ seconds: number; reason: string }>((done) => {
      const list = presets.length ? presets : [60, 600, 3600];
      let seconds = list[0] ?? 600;
      const custom = h('input', { class: 'input input-num', attrs: { type: 'number', min: 1, step: 1, placeholder: 'seconds', 'aria-label': 'custom seconds' } });
      const reason = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'reason (optional)', maxlength: 500 } });
      const buttons = list.map((s) => {
        const b = h('button', { class: 'btn chip', attrs: { type: 'button' }, dataset: { seconds: s } }, fmtDuration(s));
        b.addEventListener('click', () => {
          seconds = s;
          custom.value = '';
          for (const x of buttons) x.classList.toggle('active', x === b);
        });
        return b;
      });
      buttons[0]?.classList.add('active');
      custom.addEventListener('input', () => {
        for (const x of buttons) x.classList.remove('active');
      });
      const submit = () => {
        const c = Number(custom.value);
        const s = custom.value.trim() !== '' && Number.isFinite(c) && c > 0 ? Math.round(c) : seconds;
        done({ seconds: s, reason: reason.value.trim() });
      };
      const box = h('div', { class: 'dialog', attrs: { role: 'dialog', 'aria-modal': 'true' } },
        h('h2', null, title),
        note ? h('p', { class: 'dialog-note' }, note) : null,
        h('div', { class: 'chips' }, ...buttons),
        h('label', { class: 'field' }, h('span', null, 'custom'), custom),
        reason,
        h('div', { class: 'dialog-buttons' },
          h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => done(null) } }, 'Cancel'),
          h('button', { class: 'btn btn-warn', attrs: { type: 'button', 'data-testid': 'confirm-ok' }, on: { click: submit } }, 'Time out')));
      return { box, focus: reason, submit };
    });
  }
}

export function showHelp(host: HTMLElement): void {
  const rows: [string, string][] = [
    ['j / k', 'next / previous item or message'],
    ['Tab', 'switch between queue and chat'],
    ['a', 'approve queue item'],
    ['d', 'dismiss queue item'],
    ['b', 'ban author (asks to confirm); hide the author locally where the platform cannot ban'],
    ['t', 'time out author (default preset); hide the author locally where the platform cannot'],
    ['T', 'time out with options'],
    ['x', 'delete message; hide (or unhide) it locally where the platform cannot delete'],
    ['p', 'pin message'],
    ['u', 'user card of the author (inside: b ban, t timeout, n note, w watch, Esc close)'],
    ['r', 'reply to the message from the send box (where the platform has replies); Esc cancels'],
    ['g', 'jump to newest chat'],
    ['/', 'focus search'],
    ['?', 'show this help'],
    ['Esc', 'close dialog / leave input'],
  ];
  const close = h('button', { class: 'btn', attrs: { type: 'button' } }, 'Close');
  const box = h('div', { class: 'dialog help', attrs: { role: 'dialog', 'aria-modal': 'true', 'data-testid': 'help' } },
    h('h2', null, 'Keyboard shortcuts'),
    h('table', { class: 'keys' }, ...rows.map(([k, v]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, v)))),
    h('div', { class: 'dialog-buttons' }, close));
  const backdrop = h('div', { class: 'backdrop' }, box);
  const done = () => backdrop.remove();
  close.addEventListener('click', done);
  backdrop.addEventListener('mousedown', (e) => { if (e.target === backdrop) done(); });
  backdrop.addEventListener('keydown', (e) => { if (e.key === 'Escape' || e.key === '?') { e.preventDefault(); e.stopPropagation(); done(); } });
  host.appendChild(backdrop);
  close.focus();
}
