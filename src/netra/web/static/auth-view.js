// The sign-in and create-account forms: client-side checks first, then the server's
// answer written next to the field it concerns.

import { $ } from './dom.js';

const MESSAGES = {
  invalid_credentials: 'Wrong email or password.',
  email_taken: 'An account with this email already exists. Sign in instead?',
  network: 'The server cannot be reached. Check your connection and try again.',
};

export class AuthView {
  constructor({ root, session }) {
    this.root = root;
    this.session = session;
    this.tabs = [$('#tab-login', root), $('#tab-register', root)];
    this.forms = { login: $('#login-form', root), register: $('#register-form', root) };
    this.notice = $('#auth-notice', root);
    for (const tab of this.tabs) {
      tab.addEventListener('click', () => this.select(tab.id === 'tab-login' ? 'login' : 'register'));
      tab.addEventListener('keydown', (event) => this.arrowKeys(event));
    }
    this.forms.login.addEventListener('submit', (event) => this.submit(event, 'login'));
    this.forms.register.addEventListener('submit', (event) => this.submit(event, 'register'));
  }

  show(message = '') {
    this.root.hidden = false;
    this.notice.textContent = message;
    this.notice.hidden = !message;
    for (const form of Object.values(this.forms)) {
      form.reset();
      this.clearErrors(form);
    }
    this.select('login', false);
    $('#login-email', this.root).focus();
  }

  hide() {
    this.root.hidden = true;
  }

  select(which, focus = true) {
    for (const [name, form] of Object.entries(this.forms)) {
      const tab = $(`#tab-${name}`, this.root);
      const selected = name === which;
      form.hidden = !selected;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
  }

  arrowKeys(event) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const current = this.forms.login.hidden ? 'register' : 'login';
    this.select(current === 'login' ? 'register' : 'login');
  }

  clearErrors(form) {
    for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
    const error = form.querySelector('.form-error');
    error.hidden = true;
    error.textContent = '';
  }

  fail(form, message, fieldName) {
    const error = form.querySelector('.form-error');
    error.textContent = message;
    error.hidden = false;
    const input = fieldName && form.querySelector(`[name="${fieldName}"]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-errormessage', error.id);
      input.focus();
    }
  }

  check(form, which) {
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    if (!email) return ['Enter your email address.', 'email'];
    if (!form.elements.email.checkValidity()) return ['Enter a valid email address, like you@example.com.', 'email'];
    if (!password) return ['Enter your password.', 'password'];
    if (which === 'register' && password.length < 8) return ['Choose a password of at least 8 characters.', 'password'];
    if (password.length > 256) return ['Passwords are at most 256 characters.', 'password'];
    return null;
  }

  async submit(event, which) {
    event.preventDefault();
    const form = this.forms[which];
    this.clearErrors(form);
    const problem = this.check(form, which);
    if (problem) {
      this.fail(form, ...problem);
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    try {
      if (which === 'login') await this.session.login(email, password);
      else await this.session.register(email, password, form.elements.name.value.trim());
      // The session's 'signed-in' event takes the page to the app.
    } catch (error) {
      const field = error.details && error.details.field;
      const message = MESSAGES[error.code] || error.message || 'Something went wrong. Try again.';
      const target = error.code === 'email_taken' ? 'email' : error.code === 'invalid_credentials' ? 'password' : field;
      this.fail(form, message, target);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}
