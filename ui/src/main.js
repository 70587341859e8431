// main.js - the entry point: CSP shim first, then styles, routes and start.
import './lib/csp-shim.js';
import '@xterm/xterm/css/xterm.css';
import './app.css';
import './ide/versions.css';
import { route, start } from './app.js';
import './lib/errors.js'; // uncaught errors go to the server (client/error)

route('/', () => import('./pages/projects.js'), { title: 'Projects' });
route('/login', () => import('./pages/auth.js').then((m) => m.login), { auth: false, title: 'Log in' });
route('/signup', () => import('./pages/auth.js').then((m) => m.signup), { auth: false, title: 'Sign up' });
route('/account', () => import('./pages/account.js'), { title: 'Account' });
route('/gallery', () => import('./pages/gallery.js'), { auth: false, title: 'Gallery' });
route('/p/:id', () => import('./pages/ide.js'), { title: 'Project' });
route('/admin', () => import('./pages/admin.js'), { title: 'Admin' });

start();
