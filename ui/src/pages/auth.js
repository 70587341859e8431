// auth.js - the sign-up and log-in pages. Both use the HTTP endpoints
// (/auth/signup, /auth/login) so the browser keeps an HttpOnly session cookie
// across reloads; the websocket is then reopened with it. A login that needs
// a second factor gets MFA_REQUIRED and shows the one-time-code step.
import { h, replace } from '../lib/dom.js';
import { app, navigate, postAuth, resetSession } from '../app.js';

function field(id, label, attrs, hint) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, ...attrs, 'aria-describedby': hint ? `${id}-hint` : null }),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
  );
}

function nextTarget(query) {
  const next = query.get('next');
  return next && next.startsWith('#/') && !next.startsWith('#/login') && !next.startsWith('#/signup') ? next : '#/';
}

function authPage(root, { title, intro, form, footer }) {
  replace(root, h('section', { class: 'page page-narrow auth-page' }, h('h1', null, title), intro ? h('p', { class: 'lead' }, intro) : null, form, footer));
  root.querySelector('input')?.focus();
}

export const signup = {
  mount(root, { query }) {
    if (app.user) {
      navigate(nextTarget(query), { replace: true });
      return null;
    }
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create account');
    const form = h(
      'form',
      { class: 'card form', novalidate: true },
      field('username', 'User name', { type: 'text', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, pattern: '[A-Za-z0-9_.\\-]+', spellcheck: 'false', autocapitalize: 'none' }, '3 to 32 letters, digits, “_”, “.” or “-”.'),
      field('password', 'Password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 }, 'At least 8 characters.'),
      field('password2', 'Repeat the password', { type: 'password', autocomplete: 'new-password', required: true }),
      error,
      submit,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      const username = form.username.value.trim();
      const password = form.password.value;
      let why = null;
      if (!/^[A-Za-z0-9_.-]{3,32}$/.test(username)) why = 'User names have 3 to 32 letters, digits, “_”, “.” or “-”.';
      else if (password.length < 8) why = 'Passwords have at least 8 characters.';
      else if (password !== form.password2.value) why = 'The two passwords differ.';
      if (why) {
        error.textContent = why;
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Creating…';
      try {
        await postAuth('/auth/signup', { username, password });
        await resetSession();
        navigate(nextTarget(query));
      } catch (err) {
        error.textContent = err.reason === 'CONFLICT' ? 'That user name is taken; choose another.' : err.message;
        error.hidden = false;
      } finally {
        submit.disabled = false;
        submit.textContent = 'Create account';
      }
    });
    authPage(root, {
      title: 'Sign up',
      intro: 'Create an account to write and run code in your browser.',
      form,
      footer: h('p', null, 'Already have an account? ', h('a', { href: `#/login${query.get('next') ? `?next=${encodeURIComponent(query.get('next'))}` : ''}` }, 'Log in')),
    });
    return null;
  },
};

export const login = {
  mount(root, { query }) {
    if (app.user) {
      navigate(nextTarget(query), { replace: true });
      return null;
    }
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Log in');
    const mfa = h(
      'fieldset',
      { class: 'mfa', hidden: true },
      h('legend', null, 'Two-factor authentication'),
      h('p', { class: 'hint' }, 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.'),
      field('totp', 'One-time code', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 15, spellcheck: 'false' }),
      h('details', null, h('summary', null, 'Use a recovery code instead'), field('recovery', 'Recovery code', { type: 'text', autocomplete: 'off', maxlength: 63, spellcheck: 'false' })),
    );
    const form = h(
      'form',
      { class: 'card form', novalidate: true },
      field('username', 'User name', { type: 'text', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'none' }),
      field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
      mfa,
      error,
      submit,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      const body = { username: form.username.value.trim(), password: form.password.value };
      if (!body.username || !body.password) {
        error.textContent = 'Enter your user name and password.';
        error.hidden = false;
        return;
      }
      if (!mfa.hidden) {
        const code = form.totp.value.replace(/\s+/g, '');
        const rec = form.recovery.value.trim();
        if (rec) body.recovery_code = rec;
        else if (code) body.totp = code;
        else {
          error.textContent = 'Enter the one-time code.';
          error.hidden = false;
          form.totp.focus();
          return;
        }
      }
      submit.disabled = true;
      submit.textContent = 'Logging in…';
      try {
        await postAuth('/auth/login', body);
        await resetSession();
        navigate(nextTarget(query));
      } catch (err) {
        if (err.reason === 'MFA_REQUIRED') {
          mfa.hidden = false;
          form.totp.focus();
          if (body.totp || body.recovery_code) {
            error.textContent = 'That code is not valid.';
            error.hidden = false;
          }
        } else {
          error.textContent = err.reason === 'RATE_LIMITED' ? `Too many attempts; try again in ${err.data?.retry_after_s ?? 'a few'} s.` : err.message;
          error.hidden = false;
        }
      } finally {
        submit.disabled = false;
        submit.textContent = 'Log in';
      }
    });
    authPage(root, {
      title: 'Log in',
      form,
      footer: h('p', null, 'New here? ', h('a', { href: `#/signup${query.get('next') ? `?next=${encodeURIComponent(query.get('next'))}` : ''}` }, 'Create an account')),
    });
    return null;
  },
};
