// account.js - the account page: two-factor authentication (TOTP with a QR
// code and one-time recovery codes), password change, and the list of the
// user's login sessions with revoke.
import qrcode from 'qrcode-generator';
import { h, replace, toast, toastError, timeEl, copyText, confirmDialog, errorText } from '../lib/dom.js';
import { app, logout } from '../app.js';

function qrImage(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  // a GIF data: URL (img-src allows data:), 5 px modules and a 4-module quiet zone
  return h('img', { class: 'qr', src: qr.createDataURL(5, 20), alt: 'QR code of the authenticator set-up link', width: qr.getModuleCount() * 5 + 40, height: qr.getModuleCount() * 5 + 40 });
}

function secretGroups(s) {
  return s.replace(/(.{4})/g, '$1 ').trim();
}

export function mount(root) {
  const rpc = app.rpc;
  const totpBox = h('div', { class: 'card-body' }, h('p', null, 'Loading…'));
  const sessionsBox = h('div', { class: 'card-body' }, h('p', null, 'Loading…'));

  // ---- two-factor ----
  async function loadTotp() {
    try {
      const st = await rpc.call('auth/totp/status');
      renderTotp(st);
    } catch (e) {
      replace(totpBox, h('p', { class: 'form-error' }, errorText(e)));
    }
  }

  function renderTotp(st) {
    if (st.enabled) {
      const pw = h('input', { id: 'totp-off-pw', type: 'password', autocomplete: 'current-password', required: true });
      const code = h('input', { id: 'totp-off-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 15, required: true });
      const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const form = h(
        'form',
        { class: 'form form-inline-wrap' },
        h('div', { class: 'field' }, h('label', { for: 'totp-off-pw' }, 'Password'), pw),
        h('div', { class: 'field' }, h('label', { for: 'totp-off-code' }, 'Code or recovery code'), code),
        h('button', { type: 'submit', class: 'btn btn-danger' }, 'Turn off two-factor'),
        err,
      );
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        err.hidden = true;
        const c = code.value.trim();
        const params = { password: pw.value };
        if (/^\d{6,8}$/.test(c.replace(/\s/g, ''))) params.code = c.replace(/\s/g, '');
        else params.recovery_code = c;
        try {
          await rpc.call('auth/totp/disable', params);
          toast('Two-factor authentication is off.');
          loadTotp();
        } catch (x) {
          err.textContent = errorText(x);
          err.hidden = false;
        }
      });
      replace(
        totpBox,
        h('p', null, h('span', { class: 'badge badge-ok' }, 'On'), ` Logins ask for a code from your authenticator app. ${st.recovery_codes_left} recovery code${st.recovery_codes_left === 1 ? '' : 's'} left.`),
        form,
      );
      return;
    }
    const start = h('button', { type: 'button', class: 'btn btn-primary' }, 'Set up two-factor authentication');
    start.addEventListener('click', begin);
    replace(totpBox, h('p', null, h('span', { class: 'badge' }, 'Off'), ' Protect your account with a one-time code from an authenticator app (TOTP).'), start);
  }

  async function begin() {
    let r;
    try {
      r = await rpc.call('auth/totp/begin');
    } catch (e) {
      toastError(e, 'Two-factor set-up');
      return;
    }
    const uri = r.uri || r.otpauth_uri;
    const code = h('input', { id: 'totp-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 8, required: true, pattern: '[0-9 ]{6,8}' });
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h(
      'form',
      { class: 'form' },
      h('div', { class: 'field' }, h('label', { for: 'totp-code' }, 'Code shown by the app'), code),
      err,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Turn on'), h('button', { type: 'button', class: 'btn', onclick: loadTotp }, 'Cancel')),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        const res = await rpc.call('auth/totp/confirm', { code: code.value.replace(/\s/g, '') });
        showRecovery(res.recovery_codes || []);
      } catch (x) {
        err.textContent = errorText(x);
        err.hidden = false;
        code.select();
      }
    });
    replace(
      totpBox,
      h(
        'div',
        { class: 'totp-setup' },
        h('div', { class: 'qr-box' }, qrImage(uri)),
        h(
          'div',
          null,
          h('ol', { class: 'steps' }, h('li', null, 'Scan the QR code with an authenticator app (or enter the key below).'), h('li', null, 'Type the 6-digit code it shows to confirm.')),
          h('p', null, 'Key: ', h('code', { class: 'secret', 'aria-label': `Set-up key ${r.secret.split('').join(' ')}` }, secretGroups(r.secret)), ' ', h('button', { type: 'button', class: 'btn btn-small', onclick: async () => toast((await copyText(r.secret)) ? 'Key copied.' : 'Copy failed.') }, 'Copy key')),
          h('details', null, h('summary', null, 'Set-up link'), h('code', { class: 'wrap' }, uri)),
          form,
        ),
      ),
    );
    code.focus();
  }

  function showRecovery(codes) {
    const text = codes.join('\n');
    const list = h('ol', { class: 'recovery-codes', 'aria-label': 'Recovery codes' }, codes.map((c) => h('li', null, h('code', null, c))));
    const dl = h('a', { class: 'btn', download: 'run-it-recovery-codes.txt', href: URL.createObjectURL(new Blob([`run-it recovery codes for ${app.user.username}\n\n${text}\n`], { type: 'text/plain' })) }, 'Download');
    replace(
      totpBox,
      h('p', null, h('span', { class: 'badge badge-ok' }, 'On'), ' Two-factor authentication is on.'),
      h('div', { class: 'notice notice-warn', role: 'alert' }, h('strong', null, 'Save these recovery codes now. '), 'Each one logs you in once if you lose your device. They are shown only this once.'),
      list,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn', onclick: async () => toast((await copyText(text)) ? 'Recovery codes copied.' : 'Copy failed.') }, 'Copy'),
        dl,
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => { URL.revokeObjectURL(dl.href); loadTotp(); } }, 'I have saved them'),
      ),
    );
  }

  // ---- password ----
  const pwErr = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const pwForm = h(
    'form',
    { class: 'form' },
    h('input', { type: 'text', autocomplete: 'username', value: app.user.username, hidden: true, readOnly: true, 'aria-hidden': 'true', tabindex: '-1' }),
    h('div', { class: 'field' }, h('label', { for: 'pw-old' }, 'Current password'), h('input', { id: 'pw-old', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'pw-new' }, 'New password'), h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, 'aria-describedby': 'pw-new-hint' }), h('p', { class: 'hint', id: 'pw-new-hint' }, 'At least 8 characters. Your other sessions will be signed out.')),
    h('div', { class: 'field' }, h('label', { for: 'pw-new2' }, 'Repeat the new password'), h('input', { id: 'pw-new2', type: 'password', autocomplete: 'new-password', required: true })),
    pwErr,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password'),
  );
  pwForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    pwErr.hidden = true;
    const o = pwForm.querySelector('#pw-old').value;
    const n = pwForm.querySelector('#pw-new').value;
    if (n !== pwForm.querySelector('#pw-new2').value) {
      pwErr.textContent = 'The two new passwords differ.';
      pwErr.hidden = false;
      return;
    }
    try {
      const r = await rpc.call('auth/password', { old: o, new: n });
      pwForm.reset();
      toast(`Password changed${r.sessions_ended ? `; ${r.sessions_ended} other session${r.sessions_ended === 1 ? '' : 's'} signed out` : ''}.`);
      loadSessions();
    } catch (x) {
      pwErr.textContent = errorText(x);
      pwErr.hidden = false;
    }
  });

  // ---- sessions ----
  async function loadSessions() {
    let r;
    try {
      r = await rpc.call('auth/sessions');
    } catch (e) {
      replace(sessionsBox, h('p', { class: 'form-error' }, errorText(e)));
      return;
    }
    const rows = r.sessions.map((s) =>
      h(
        'tr',
        null,
        h('td', null, s.current ? h('strong', null, 'This browser') : describeAgent(s.user_agent)),
        h('td', null, s.ip || '—'),
        h('td', null, timeEl(s.created_at)),
        h('td', null, timeEl(s.last_seen_at)),
        h(
          'td',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-danger',
              'aria-label': s.current ? 'Log out this browser' : `Revoke the session from ${describeAgent(s.user_agent)}, ${s.ip || ''}`,
              onclick: async () => {
                if (s.current) return logout();
                if (!(await confirmDialog({ title: 'Revoke session', message: 'That browser will be signed out at once.', confirm: 'Revoke', danger: true }))) return;
                try {
                  await rpc.call('auth/session/revoke', { id: s.id });
                  toast('Session revoked.');
                  loadSessions();
                } catch (x) {
                  toastError(x);
                }
              },
            },
            s.current ? 'Log out' : 'Revoke',
          ),
        ),
      ),
    );
    replace(
      sessionsBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' }, h('caption', { class: 'visually-hidden' }, 'Your sessions'), h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Browser'), h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Signed in'), h('th', { scope: 'col' }, 'Last active'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), h('tbody', null, rows))),
    );
  }

  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h('h1', null, 'Account'),
      h('p', { class: 'lead' }, 'Signed in as ', h('strong', null, app.user.username), app.user.role === 'admin' ? ' (admin)' : '', '.'),
      h('div', { class: 'grid-2' }, h('section', { class: 'card', 'aria-labelledby': 'h-2fa' }, h('h2', { id: 'h-2fa' }, 'Two-factor authentication'), totpBox), h('section', { class: 'card', 'aria-labelledby': 'h-pw' }, h('h2', { id: 'h-pw' }, 'Password'), pwForm)),
      h('section', { class: 'card', 'aria-labelledby': 'h-sess' }, h('h2', { id: 'h-sess' }, 'Sessions'), h('p', { class: 'hint' }, 'Where you are signed in. Revoke any you do not recognise.'), sessionsBox, h('button', { type: 'button', class: 'btn', onclick: () => logout() }, 'Log out')),
    ),
  );
  loadTotp();
  loadSessions();
  return null;
}

function describeAgent(ua) {
  if (!ua) return 'Unknown client';
  const b = /Firefox\/[\d.]+/.exec(ua) || /Edg\/[\d.]+/.exec(ua) || /Chrom(e|ium)\/[\d.]+/.exec(ua) || /Safari\/[\d.]+/.exec(ua);
  const os = /Windows|Mac OS X|Linux|Android|iPhone|iPad/.exec(ua);
  return `${b ? b[0].split('/')[0] : ua.slice(0, 40)}${os ? ` on ${os[0].replace('Mac OS X', 'macOS')}` : ''}`;
}
