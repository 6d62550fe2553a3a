// Conveniences for the admin console, whose pages all work without this
// script: it only makes them quicker to use.
(function () {
  'use strict';

  // Where the reader starts: a form sent back with a problem puts the
  // focus on the field it names, of whatever kind (for a group of boxes,
  // its first), so a keyboard user is where the fix is and a screen
  // reader reads the problem as the field's description; a problem tied
  // to no field (a stale form, a refused action) gets the focus itself,
  // as an alert present at load is not read out by every screen reader;
  // otherwise a page may name its own start (the import report).
  function start() {
    var invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid && invalid.matches('fieldset')) {
      invalid = invalid.querySelector('input:not([disabled]), select:not([disabled]), textarea:not([disabled])');
    }
    return invalid || document.getElementById('problem') || document.querySelector('[data-start]');
  }
  var first = start();
  if (first) { first.focus(); }

  // The user list: a click anywhere on a row selects it, as its radio
  // does; "View profile" waits for a selection.
  var view = document.getElementById('view-profile');
  var rows = document.querySelectorAll('tr[data-select]');
  function mark() {
    rows.forEach(function (row) {
      var radio = document.getElementById(row.getAttribute('data-select'));
      row.classList.toggle('selected', !!(radio && radio.checked));
    });
    if (view) { view.disabled = !document.querySelector('tr[data-select] input:checked'); }
  }
  rows.forEach(function (row) {
    row.addEventListener('click', function (event) {
      if (event.target.closest('a, input, label, button')) { return; }
      var radio = document.getElementById(row.getAttribute('data-select'));
      if (radio) { radio.checked = true; radio.focus(); mark(); }
    });
    row.addEventListener('change', mark);
  });
  if (rows.length) { mark(); }

  // A colour picker beside the primary colour's text field.
  document.querySelectorAll('input[data-color-picker]').forEach(function (field) {
    var picker = document.createElement('input');
    picker.type = 'color';
    picker.className = 'color-picker';
    picker.setAttribute('aria-label', field.labels && field.labels[0] ? field.labels[0].textContent : 'colour');
    function expand(v) {
      return /^#[0-9a-fA-F]{3}$/.test(v) ? '#' + v[1] + v[1] + v[2] + v[2] + v[3] + v[3] : v;
    }
    // Without a colour of its own the tenant wears the default, the
    // field's placeholder.
    var start = field.value || field.placeholder;
    if (/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(start)) { picker.value = expand(start).toLowerCase(); }
    picker.addEventListener('input', function () { field.value = picker.value; });
    field.addEventListener('input', function () {
      if (/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(field.value)) { picker.value = expand(field.value).toLowerCase(); }
    });
    field.insertAdjacentElement('afterend', picker);
  });

  // Copy buttons (the client secret). That it worked is said in the
  // button's status region (role=status), which a screen reader reads out;
  // a change of the button's own label is not.
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var field = document.getElementById(button.getAttribute('data-copy'));
    var status = document.getElementById(button.getAttribute('data-status'));
    if (!field || !status || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = button.getAttribute('data-copied');
      });
    });
  });

  // One submission per form: a second click would send the change twice.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.method.toLowerCase() !== 'post') { return; }
    if (form.getAttribute('data-sent')) { event.preventDefault(); return; }
    form.setAttribute('data-sent', '1');
    form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.setAttribute('aria-busy', 'true'); });
  });
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      form.removeAttribute('data-sent');
      form.querySelectorAll('[aria-busy]').forEach(function (b) { b.removeAttribute('aria-busy'); });
    });
  });
}());
