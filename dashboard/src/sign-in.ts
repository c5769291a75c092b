import { el } from './panel.ts';

const KEY = 'millrace.token';

/**
 * The sign-in box: a bearer token (a JWT or an API key, as the API takes them; embedded mode
 * prints a dev token) kept in this browser's localStorage and sent on every request. Empty means
 * no token: a gateway with auth off answers anyway.
 */
export function createSignIn() {
  const listeners: (() => void)[] = [];
  const root = el('div', 'signin');
  const status = el('span', 'who');
  const toggle = el('button', '', '');
  toggle.type = 'button';
  const form = el('form', 'signin-form');
  const input = el('input');
  input.type = 'password';
  input.name = 'token';
  input.placeholder = 'bearer token (JWT or API key)';
  input.autocomplete = 'off';
  const save = el('button', '', 'Sign in');
  save.type = 'submit';
  form.append(input, save);
  form.hidden = true;
  root.append(status, toggle, form);

  const read = () => {
    try {
      return localStorage.getItem(KEY);
    } catch {
      return null;
    }
  };
  const draw = () => {
    const token = read();
    status.textContent = token ? 'signed in' : 'no token';
    root.dataset.signedIn = token ? 'yes' : 'no';
    toggle.textContent = token ? 'Sign out' : 'Sign in';
  };
  toggle.addEventListener('click', () => {
    if (read()) {
      localStorage.removeItem(KEY);
      draw();
      for (const fn of listeners) fn();
    } else {
      form.hidden = !form.hidden;
      if (!form.hidden) input.focus();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim().replace(/^Bearer\s+/i, '');
    if (!token) return;
    localStorage.setItem(KEY, token);
    input.value = '';
    form.hidden = true;
    draw();
    for (const fn of listeners) fn();
  });
  draw();
  return {
    root,
    token: read,
    onChange: (fn: () => void) => void listeners.push(fn),
  };
}
