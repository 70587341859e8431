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

// "45 s", "2 min 5 s", "1 h 3 min"
export function waitText(secs) {
  const s = Math.max(1, Math.ceil(secs));
  if (s < 90) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

// A refusal for too many attempts (429, RATE_LIMITED, retry_after_s): say
// how long to wait, count it down, and keep the button off until then.
// Returns false for any other error.
function showLimit(err, error, submit, what) {
  if (err.reason !== 'RATE_LIMITED') return false;
  const until = Date.now() + 1000 * (Number(err.data?.retry_after_s) || 60);
  clearInterval(error.limitTimer);
  const tick = () => {
    const left = (until - Date.now()) / 1000;
    if (left <= 0 || !error.isConnected) {
      clearInterval(error.limitTimer);
      submit.disabled = false;
      if (error.isConnected) error.textContent = `You can try to ${what} again now.`;
      return;
    }
    submit.disabled = true;
    error.textContent = `Too many attempts to ${what}. Please wait ${waitText(left)} before trying again.`;
  };
  error.hidden = false;
  tick();
  error.limitTimer = setInterval(tick, 1000);
  return true;
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
        if (!showLimit(err, error, submit, 'sign up')) {
          error.textContent = err.reason === 'CONFLICT' ? 'That user name is taken; choose another.' : err.message;
          error.hidden = false;
        }
      } finally {
        submit.disabled = false;
        submit.textContent = 'Create account';
        if (error.limitTimer && /Please wait/.test(error.textContent)) submit.disabled = true;
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
        } else if (!showLimit(err, error, submit, 'log in')) {
          error.textContent = err.message;
          error.hidden = false;
        }
      } finally {
        submit.disabled = false;
        submit.textContent = 'Log in';
        if (error.limitTimer && /Please wait/.test(error.textContent)) submit.disabled = true;
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
