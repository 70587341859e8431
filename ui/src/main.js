// main.js - the entry point: CSP shim first, then styles, routes and start.
import './lib/csp-shim.js';
import '@xterm/xterm/css/xterm.css';
import './app.css';
import './ide/versions.css';
import { app, route, start } from './app.js';
import './lib/errors.js'; // uncaught errors go to the server (client/error)

// signed in: your projects; signed out: the front door
route('/', () => (app.user ? import('./pages/projects.js') : import('./pages/home.js')), { auth: false, title: 'Projects' });
route('/login', () => import('./pages/auth.js').then((m) => m.login), { auth: false, title: 'Log in' });
route('/signup', () => import('./pages/auth.js').then((m) => m.signup), { auth: false, title: 'Sign up' });
route('/account', () => import('./pages/account.js'), { title: 'Account' });
route('/gallery', () => import('./pages/gallery.js'), { auth: false, title: 'Gallery' });
route('/p/:id', () => import('./pages/ide.js'), { auth: false, title: 'Project' });
route('/help', () => import('./pages/help.js'), { auth: false, title: 'Help' });
route('/admin', () => import('./pages/admin.js'), { title: 'Admin' });

start();
