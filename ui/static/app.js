// Conveniences for Cognate's pages, which work without this script.
(function () {
  'use strict';

  // "Show password" buttons: hidden in the HTML, shown once they can work.
  document.querySelectorAll('button[data-reveal]').forEach(function (button) {
    var input = document.getElementById(button.getAttribute('data-reveal'));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      var show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      // The label says what the next press does; no aria-pressed on top,
      // or a screen reader would announce the state twice.
      button.textContent = button.getAttribute(show ? 'data-hide' : 'data-show');
    });
  });

  // Copy buttons (the TOTP key, the recovery codes): hidden in the HTML,
  // shown once the clipboard can be written. The key is copied without
  // the spaces that group it for reading, a list one item a line. The
  // sentence that says it worked goes to the live region after the
  // button, emptied first so that a second copy is announced again.
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    var status = button.parentNode.querySelector('[role="status"]');
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      var items = source.querySelectorAll('li');
      var text = items.length ?
        Array.prototype.map.call(items, function (li) { return li.textContent.trim(); }).join('\n') :
        source.textContent.replace(/\s+/g, '');
      navigator.clipboard.writeText(text).then(function () {
        if (!status) { return; }
        status.textContent = '';
        window.setTimeout(function () { status.textContent = button.getAttribute('data-copied'); }, 100);
      });
    });
  });

  // One submission per form: a second click would spend a one-time sign-in
  // challenge twice. Revealed passwords go back to dots before they leave.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.getAttribute('data-sent')) {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-sent', '1');
    form.querySelectorAll('button[data-reveal]').forEach(function (button) {
      var input = document.getElementById(button.getAttribute('data-reveal'));
      if (input) { input.type = 'password'; }
    });
    form.querySelectorAll('button[type="submit"]').forEach(function (button) {
      button.setAttribute('aria-busy', 'true');
    });
  });

  // A page restored from the back/forward cache may be submitted again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      form.removeAttribute('data-sent');
      form.querySelectorAll('[aria-busy]').forEach(function (b) { b.removeAttribute('aria-busy'); });
    });
  });
}());
