// WebAuthn for Cognate's pages. The page holds the server's options as JSON
// in data-options of #webauthn (the CSP forbids inline scripts), with
// data-mode "get" (sign in with a key or passkey) or "create" (register
// one). This script hands them to navigator.credentials, writes the
// browser's answer as JSON into the form's "credential" field and submits
// the form; the server verifies it against the ceremony it kept.
(function () {
  'use strict';

  var box = document.getElementById('webauthn');
  var button = document.getElementById('webauthn-start');
  var status = document.getElementById('webauthn-status');
  if (!box || !button) { return; }
  var form = button.form;
  var field = form.querySelector('input[name="credential"]');

  function say(text) {
    status.textContent = text;
    status.hidden = false;
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  // Enter in the set-up's name field submits the form (its one text field)
  // before any key has answered: the server could only refuse the empty
  // answer. The ceremony starts instead, and its answer submits the form.
  // Stopped here, app.js does not mark the form as sent.
  form.addEventListener('submit', function (event) {
    if (field.value) { return; }
    event.preventDefault();
    event.stopPropagation();
    if (supported) { run(); }
  });

  if (!supported) {
    say(box.getAttribute('data-unsupported'));
    return;
  }

  // base64url (no padding) <-> ArrayBuffer, the encoding of the options and
  // of what the server expects back.
  function decode(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) { b64 += '='; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function encode(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIDs(list) {
    return (list || []).map(function (c) {
      var copy = Object.assign({}, c);
      copy.id = decode(c.id);
      return copy;
    });
  }

  function publicKey(options, mode) {
    var pk = Object.assign({}, options);
    pk.challenge = decode(options.challenge);
    if (mode === 'create') {
      pk.user = Object.assign({}, options.user, { id: decode(options.user.id) });
      pk.excludeCredentials = withIDs(options.excludeCredentials);
    } else {
      pk.allowCredentials = withIDs(options.allowCredentials);
    }
    return pk;
  }

  // The PublicKeyCredential as JSON, written out rather than with toJSON(),
  // which older browsers lack.
  function asJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) { out.authenticatorAttachment = cred.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) { out.response.userHandle = encode(r.userHandle); }
    }
    return out;
  }

  var busy = false;
  function run() {
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    status.hidden = true;
    var mode = box.getAttribute('data-mode');
    var request = { publicKey: publicKey(JSON.parse(box.getAttribute('data-options')), mode) };
    var ceremony = mode === 'create' ? navigator.credentials.create(request) : navigator.credentials.get(request);
    ceremony.then(function (cred) {
      field.value = JSON.stringify(asJSON(cred));
      form.submit();
    }, function (err) {
      busy = false;
      button.disabled = false;
      // NotAllowedError is what a cancel, a timeout and "no credential for
      // this site" all look like, on purpose: the page cannot tell them apart.
      say(box.getAttribute(err && err.name === 'NotAllowedError' ? 'data-cancelled' : 'data-failed'));
    });
  }

  button.hidden = false;
  button.addEventListener('click', run);
  if (box.hasAttribute('data-autostart')) { run(); }
}());
