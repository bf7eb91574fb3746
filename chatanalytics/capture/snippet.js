/* chatanalytics capture snippet: forwards every Adobe Dynamic Chat callback event to the analytics
 * tools the page already runs (GTM dataLayer, GA4 gtag, Adobe Web SDK alloy, AppMeasurement s.tl,
 * Segment analytics.track, a first-party endpoint through navigator.sendBeacon).
 *
 * Configuration: the object `chatanalyticsCaptureConfig` ({destinations, endpoint, plan}), written in
 * front of this code by chatanalytics.capture_snippet(), or window.chatanalyticsCaptureConfig.
 * State and counters: window.__chatanalyticsCapture (sent, skipped, errors, redacted, truncated).
 * Syntax is ES5 on purpose: Google Tag Manager's Custom HTML tags reject newer syntax.
 */
(function (window, config) {
  "use strict";
  if (!window || !config || typeof config !== "object" || !config.plan) {
    return;
  }
  var STATE_KEY = "__chatanalyticsCapture";
  if (window[STATE_KEY]) {
    // included twice: the first copy already listens; count this one and stop
    try {
      window[STATE_KEY].inclusions = (window[STATE_KEY].inclusions || 1) + 1;
    } catch (ignore) {
      // a read-only or foreign object: nothing to count
    }
    return;
  }

  var READY = "adobedx.conversations.ready";
  var EVENTS = [
    "CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED", "CONVERSATION_COMPLETED", "CONVERSATION_CLOSED",
    "CONVERSATION_INPUT_PHONE", "CONVERSATION_INPUT_EMAIL", "CONVERSATION_MEETING_BOOKED",
    "CONVERSATION_LIVE_CHAT_REQUESTED", "CONVERSATION_LIVE_CHAT_INITIATED", "CONVERSATION_LIVE_CHAT_ENDED",
    "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
  ];
  // the documented payload keys; nothing else in a payload is ever read
  var PAYLOAD_KEYS = ["name", "id", "type", "uiType", "sid", "agentName", "agentID", "meetingInfo"];
  // every field a plan can map, in the order destinations receive them
  var FIELDS = ["event", "ts", "event_id", "page_url"].concat(PAYLOAD_KEYS);

  var plan = config.plan;
  var destinations = Object.prototype.toString.call(config.destinations) === "[object Array]"
    ? config.destinations : [];
  var REDACTED = typeof plan.redaction_marker === "string" ? plan.redaction_marker : "[redacted]";
  var CUT = typeof plan.truncation_marker === "string" ? plan.truncation_marker : "\u2026";

  var state = {
    version: 1,
    inclusions: 1,
    destinations: destinations.slice(),
    subscribed: false,
    via: null,
    events: [],
    sent: {},
    skipped: {},
    errors: { snippet: 0 },
    redacted: 0,
    truncated: 0,
    lastError: null
  };
  for (var d = 0; d < destinations.length; d++) {
    state.sent[destinations[d]] = 0;
    state.skipped[destinations[d]] = 0;
    state.errors[destinations[d]] = 0;
  }
  try {
    window[STATE_KEY] = state;
  } catch (ignore) {
    return;
  }
  var instances = [];  // the addListener functions already subscribed to

  function fail(where, err) {
    state.errors[where] = (state.errors[where] || 0) + 1;
    try {
      state.lastError = where + ": " + (err && err.message ? err.message : String(err));
    } catch (ignore) {
      state.lastError = where;
    }
  }

  // ---- privacy: email addresses and phone numbers never leave the page ----
  // The rules the loaders apply: chatanalytics.io._privacy.SNIPPET_RULES, copied here (the tests check
  // that the copy is the same).
  var RULES = {"fold":{" ":"\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000","-":"\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d",".":"\u3002\uff0e\uff61","@":"\uff20\ufe6b","+":"\uff0b\ufe62","(":"\uff08",")":"\uff09","/":"\uff0f"},"digit_zeros":[65296,1632,1776,2406],"email":"[A-Za-z0-9\\u00c0-\\u02af\\u0370-\\u1fff\\u2c00-\\u2dff\\u3040-\\ud7ff\\uf900-\\ufdff\\ufe70-\\ufefe\\uff21-\\uff3a\\uff41-\\uff5a\\uff66-\\uffdc._%+-]+(?:@|%40)[A-Za-z0-9\\u00c0-\\u02af\\u0370-\\u1fff\\u2c00-\\u2dff\\u3040-\\ud7ff\\uf900-\\ufdff\\ufe70-\\ufefe\\uff21-\\uff3a\\uff41-\\uff5a\\uff66-\\uffdc-]+(?:\\.[A-Za-z0-9\\u00c0-\\u02af\\u0370-\\u1fff\\u2c00-\\u2dff\\u3040-\\ud7ff\\uf900-\\ufdff\\ufe70-\\ufefe\\uff21-\\uff3a\\uff41-\\uff5a\\uff66-\\uffdc-]+)*\\.(?:xn--[A-Za-z0-9-]+|[A-Za-z\\u00c0-\\u02af\\u0370-\\u1fff\\u2c00-\\u2dff\\u3040-\\ud7ff\\uf900-\\ufdff\\ufe70-\\ufefe\\uff21-\\uff3a\\uff41-\\uff5a\\uff66-\\uffdc]{2,})","mask":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}(?:[T ]\\d{1,2}:\\d\\d)?|\\d{1,2}[-/.]\\d{1,2}[-/.](?:19|20)\\d\\d|\\d{1,2}:\\d\\d(?::\\d\\d)?|\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}","phone":"(^|[^\\w+])((?:\\+|00)[ (]{0,2}\\d(?:[ ().\\-/]{0,3}\\d){6,14}|\\(\\d{1,5}\\)[ ().\\-/]{0,3}\\d(?:[ ().\\-/]{0,3}\\d){3,13}|\\d{2,5}(?:[ ().\\-/]{1,3}\\d{1,5}){2,6})(?!\\w)","word_phone":"(?:(^|[^A-Za-z\\u00c0-\\u024f])(?:call|calling|phone|telephone|tel|mobile|cell|cellphone|whatsapp|sms|fax|telefon|telefonnummer|handy|mobil|mobilnummer|anrufen|rufnummer|t[\\u00e9\\u00c9]l[\\u00e9\\u00c9]phone|t[\\u00e9\\u00c9]l|portable|appeler|appelez|appelle|tel[\\u00e9\\u00c9]fono|llamar|llame|ll[\\u00e1\\u00c1]mame|ll[\\u00e1\\u00c1]menos|m[\\u00f3\\u00d3]vil|movil|celular|telefone|ligue|ligar|telem[\\u00f3\\u00d3]vel|telemovel|telefono|cellulare|chiama|chiamare|chiamami|telefoon|bellen|mobiel)(?![A-Za-z\\u00c0-\\u024f])|()(?:\\u96fb\\u8a71|\\u7535\\u8bdd|\\u643a\\u5e2f|\\u624b\\u673a|\\u624b\\u6a5f))[^\\d\\n]{0,20}?(\\+?\\(?\\d(?:[ ().\\-/]{0,3}\\d){5,14})(?!\\w)","contact_key":"e[-_]?mail|mail|phone|tel|t\\u00e9l|mobile|mobil|cell|fax|sms|whatsapp|handy|portable|m\\u00f3vil|movil|celular|\\u96fb\\u8a71|\\u7535\\u8bdd|\\u643a\\u5e2f|\\u624b\\u673a|\\u624b\\u6a5f"};
  var FOLD = {};
  var foldChars = "";
  (function () {
    var to, i, z;
    for (to in RULES.fold) {
      if (Object.prototype.hasOwnProperty.call(RULES.fold, to)) {
        for (i = 0; i < RULES.fold[to].length; i++) {
          FOLD[RULES.fold[to].charAt(i)] = to;
          foldChars += RULES.fold[to].charAt(i);
        }
      }
    }
    for (z = 0; z < RULES.digit_zeros.length; z++) {
      for (i = 0; i < 10; i++) {
        FOLD[String.fromCharCode(RULES.digit_zeros[z] + i)] = String(i);
        foldChars += String.fromCharCode(RULES.digit_zeros[z] + i);
      }
    }
  })();
  var FOLD_RE = new RegExp("[" + foldChars.replace(/[\\\]\-\^]/g, "\\$&") + "]", "g");
  var EMAIL = new RegExp(RULES.email, "gi");
  var MASK = new RegExp(RULES.mask, "gi");
  var PHONE = new RegExp(RULES.phone, "g");
  var WORD_PHONE = new RegExp(RULES.word_phone, "gi");
  var CONTACT_KEY = new RegExp(RULES.contact_key, "i");
  var WHOLE_PHONE = /^\s*(?:\+|00)?[\d ().\-\/]+\s*$/;
  var URL_IN_TEXT = /(?:https?|ftp):\/\/[^\s"'<>]+/gi;
  var URL_PARTS = /^([a-z][a-z0-9+.\-]*:(?:\/\/[^\/?#]*)?)?([^?#]*)(\?[^#]*)?(#[\s\S]*)?$/i;

  function fold(text) {
    return text.replace(FOLD_RE, function (c) {
      return FOLD[c];
    });
  }

  function digitCount(text) {
    return text.replace(/[^0-9]/g, "").length;
  }

  // 12.345.678 or 12 345 678: groups of three after the first, one separator throughout
  function thousands(number) {
    var groups = number.replace(/^\(+|\)+$/g, "").split(/[ ().\-\/]+/);
    var seps = number.match(/[ ().\-\/]+/g) || [];
    if (groups.length < 3 || groups[0].length > 3) {
      return false;
    }
    for (var i = 1; i < groups.length; i++) {
      if (groups[i].length !== 3) {
        return false;
      }
    }
    for (var j = 0; j < seps.length; j++) {
      if (seps[j] !== "." && seps[j] !== " ") {
        return false;
      }
    }
    return true;
  }

  function mergeSpans(spans) {
    spans.sort(function (a, b) {
      return a[0] - b[0] || a[1] - b[1];
    });
    var out = [];
    for (var i = 0; i < spans.length; i++) {
      var last = out[out.length - 1];
      if (last && spans[i][0] <= last[1]) {
        last[1] = Math.max(last[1], spans[i][1]);
      } else {
        out.push([spans[i][0], spans[i][1]]);
      }
    }
    return out;
  }

  function redactSpans(text, spans) {
    var out = "";
    var last = 0;
    for (var i = 0; i < spans.length; i++) {
      out += text.slice(last, spans[i][0]) + REDACTED;
      last = spans[i][1];
    }
    return out + text.slice(last);
  }

  // where phone numbers are in folded text: [start, end] pairs
  function phoneSpans(text) {
    var masked = text.replace(MASK, function (m) {
      return new Array(m.length + 1).join("x");
    });
    var spans = [];
    var m, n;
    WORD_PHONE.lastIndex = 0;
    while ((m = WORD_PHONE.exec(masked)) !== null) {
      n = digitCount(m[3]);
      if (n >= 6 && n <= 15) {
        spans.push([m.index + m[0].length - m[3].length, m.index + m[0].length]);
      }
    }
    var pos = 0;
    while (pos <= masked.length) {
      PHONE.lastIndex = pos;
      m = PHONE.exec(masked);
      if (m === null) {
        break;
      }
      var number = m[2];
      var start = m.index + m[1].length;
      n = digitCount(number);
      if (n >= 7 && n <= 15 && (number.charAt(0) === "+" || number.charAt(0) === "(" ||
          number.slice(0, 2) === "00" || !thousands(number))) {
        spans.push([start, start + number.length]);
        pos = start + number.length;
      } else {
        pos = start + 1;
      }
    }
    return mergeSpans(spans);
  }

  function looksLikePhone(value) {
    var folded = fold(value);
    var n = digitCount(folded);
    if (!WHOLE_PHONE.test(folded) || n < 7 || n > 15) {
      return false;
    }
    var s = folded.replace(/^\s+|\s+$/g, "");
    if (s.charAt(0) === "+" || s.slice(0, 2) === "00") {
      return true;
    }
    return /[ ().\-\/]/.test(s) && phoneSpans(s).length > 0;
  }

  function emailIn(text) {
    EMAIL.lastIndex = 0;
    var found = EMAIL.test(fold(text));
    EMAIL.lastIndex = 0;
    return found;
  }

  // email addresses and phone numbers in free text (and in the URLs in it); nothing counted
  function redactText(text) {
    if (text.indexOf("://") >= 0) {
      text = text.replace(URL_IN_TEXT, function (url) {
        return redactUrl(url);
      });
    }
    var folded = fold(text);
    if (folded.indexOf("@") >= 0 || folded.indexOf("%40") >= 0) {
      var spans = [];
      var m;
      EMAIL.lastIndex = 0;
      while ((m = EMAIL.exec(folded)) !== null) {
        spans.push([m.index, m.index + m[0].length]);
      }
      if (spans.length) {
        text = redactSpans(text, mergeSpans(spans));
        folded = fold(text);
      }
    }
    return redactSpans(text, phoneSpans(folded));
  }

  function holdsContact(value) {
    return emailIn(value) || looksLikePhone(value) || redactText(value) !== value;
  }

  function decode(text, plus) {
    var spaced = plus ? text.replace(/\+/g, " ") : text;
    try {
      return decodeURIComponent(spaced);
    } catch (bad) {
      return spaced;
    }
  }

  function redactSegments(piece, plus) {
    var segments = piece.split("/");
    for (var i = 0; i < segments.length; i++) {
      if (segments[i] && holdsContact(decode(segments[i], plus))) {
        segments[i] = REDACTED;
      }
    }
    return segments.join("/");
  }

  // a query string or fragment (with its "?" or "#"): key=value pairs by name and decoded value
  function redactParams(part) {
    if (!part) {
      return part;
    }
    var pieces = part.slice(1).split(/([&;])/);
    for (var i = 0; i < pieces.length; i++) {
      var piece = pieces[i];
      var eq = piece.indexOf("=");
      if (eq >= 0) {
        var key = piece.slice(0, eq);
        var value = piece.slice(eq + 1);
        if (value && (CONTACT_KEY.test(decode(key, true)) || holdsContact(decode(value, true)))) {
          pieces[i] = key + "=" + REDACTED;
        }
      } else if (piece !== "&" && piece !== ";") {
        pieces[i] = redactSegments(piece, true);
      }
    }
    return part.charAt(0) + pieces.join("");
  }

  function redactUrl(url) {
    var m = URL_PARTS.exec(url);
    if (!m) {
      return url;
    }
    var out = (m[1] || "") + redactSegments(m[2] || "", false) + redactParams(m[3] || "") +
      redactParams(m[4] || "");
    return out.indexOf("@") >= 0 || out.indexOf("%40") >= 0 ? out.replace(EMAIL, REDACTED) : out;
  }

  function scrubText(text) {
    var out = looksLikePhone(text) ? REDACTED : redactText(text);
    if (out !== text) {
      state.redacted++;
    }
    return out;
  }

  function scrubUrl(url) {
    var out = redactUrl(url);
    if (out !== url) {
      state.redacted++;
    }
    return out;
  }

  function scrubValue(value, depth) {
    if (typeof value === "string") {
      return scrubText(value);
    }
    if (value === null || typeof value !== "object" || depth > 20) {
      return value;
    }
    var out, i, key;
    if (Object.prototype.toString.call(value) === "[object Array]") {
      out = [];
      for (i = 0; i < value.length; i++) {
        out.push(scrubValue(value[i], depth + 1));
      }
      return out;
    }
    out = {};
    for (key in value) {
      if (Object.prototype.hasOwnProperty.call(value, key)) {
        var v = value[key];
        if (CONTACT_KEY.test(key) && v !== null && v !== "" && typeof v !== "object") {
          out[key] = REDACTED;
          state.redacted++;
        } else {
          out[key] = scrubValue(v, depth + 1);
        }
      }
    }
    return out;
  }

  function scrubMeetingInfo(value) {
    if (typeof value === "string") {
      var trimmed = value.replace(/^\s+/, "");
      if (trimmed.charAt(0) === "{" || trimmed.charAt(0) === "[") {
        try {
          return scrubValue(JSON.parse(value), 0);
        } catch (notJson) {
          // free text: scrubbed as text below
        }
      }
      return scrubText(value);
    }
    return scrubValue(value, 0);
  }

  // ---- limits ----
  function dropHalfPair(text) {
    var last = text.charCodeAt(text.length - 1);
    return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
  }

  function cutChars(text, max) {
    if (text.length <= max) {
      return text;
    }
    state.truncated++;
    return dropHalfPair(text.slice(0, Math.max(0, max - CUT.length))) + CUT;
  }

  function utf8Length(text) {
    try {
      return unescape(encodeURIComponent(text)).length;
    } catch (lone) {
      return text.length * 3;
    }
  }

  function cutBytes(text, max) {
    if (utf8Length(text) <= max) {
      return text;
    }
    state.truncated++;
    var head = dropHalfPair(text.slice(0, max));
    while (head && utf8Length(head + CUT) > max) {
      head = dropHalfPair(head.slice(0, -1));
    }
    return head + CUT;
  }

  // ---- the record every destination is built from ----
  function randomHex(n) {
    var out = "";
    var c = window.crypto;
    if (c && typeof c.getRandomValues === "function") {
      var bytes = c.getRandomValues(new Uint8Array(n));
      for (var i = 0; i < n; i++) {
        out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      }
      return out;
    }
    while (out.length < 2 * n) {
      out += Math.floor(Math.random() * 0x100000000).toString(16);
    }
    return out.slice(0, 2 * n);
  }

  function newEventId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      return c.randomUUID();
    }
    return randomHex(16);
  }

  function makeRecord(constant, event) {
    var raw = event && event.data && event.data.payload;
    if (!raw || typeof raw !== "object") {
      raw = event && event.payload && typeof event.payload === "object" ? event.payload : {};
    }
    var payload = {};
    for (var i = 0; i < PAYLOAD_KEYS.length; i++) {
      var key = PAYLOAD_KEYS[i];
      var value = raw[key];
      if (value === undefined || value === null || value === "") {
        continue;
      }
      if (key === "meetingInfo") {
        value = scrubMeetingInfo(value);
      } else if (typeof value === "object") {
        value = JSON.stringify(scrubValue(value, 0));
      } else if (typeof value === "string") {
        value = scrubText(value);
      }
      payload[key] = value;
    }
    var href = "";
    try {
      href = scrubUrl(String(window.location.href));
    } catch (noLocation) {
      href = "";
    }
    return { ts: new Date().toISOString(), event: constant, event_id: newEventId(), page_url: href,
      payload: payload };
  }

  // a field as the flat destinations send it: text, meetingInfo as JSON text; undefined when absent
  function fieldValue(record, field) {
    if (field === "event" || field === "ts" || field === "event_id" || field === "page_url") {
      return record[field] || undefined;
    }
    var value = record.payload[field];
    if (value === undefined) {
      return undefined;
    }
    if (typeof value === "string") {
      return value;
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function setPath(target, path, value) {
    var parts = String(path).split(".");
    for (var i = 0; i < parts.length - 1; i++) {
      if (!target[parts[i]] || typeof target[parts[i]] !== "object") {
        target[parts[i]] = {};
      }
      target = target[parts[i]];
    }
    target[parts[parts.length - 1]] = value;
  }

  function mapped(record, fields, missing) {
    var out = {};
    for (var i = 0; i < FIELDS.length; i++) {
      var key = fields && fields[FIELDS[i]];
      if (!key) {
        continue;
      }
      var value = fieldValue(record, FIELDS[i]);
      if (value !== undefined) {
        out[key] = value;
      } else if (missing !== undefined) {
        out[key] = missing;
      }
    }
    return out;
  }

  function watch(result, destination) {
    if (result && typeof result.then === "function") {
      result.then(null, function (err) {
        fail(destination, err);
      });
    }
  }

  var visitor = null;

  function visitorId(storageKey) {
    if (visitor) {
      return visitor;
    }
    try {
      visitor = window.localStorage.getItem(storageKey);
      if (!visitor) {
        visitor = "v-" + randomHex(8);
        window.localStorage.setItem(storageKey, visitor);
      }
    } catch (blocked) {
      // storage blocked (privacy mode, sandboxed frame): an id for this page view only
      visitor = visitor || "v-" + randomHex(8);
    }
    return visitor;
  }

  // ---- destinations: true = sent, false = this event is switched off in the plan, null = tool absent ----
  // the page's tool a destination calls: its global name (the plan's "object" overrides it) and the
  // method that must be callable ("" = the global itself); the others need no tool on the page
  var TOOLS = {
    ga4: ["gtag", ""], websdk: ["alloy", ""], appmeasurement: ["s", "tl"], segment: ["analytics", "track"]
  };

  // the tool, or null while the page does not have it
  function tool(name, p) {
    var spec = TOOLS[name];
    if (!spec) {
      return undefined;
    }
    var target = window[p.object || spec[0]];
    var callable = spec[1] ? target && target[spec[1]] : target;
    return typeof callable === "function" ? target : null;
  }

  var SEND = {
    datalayer: function (record, p) {
      var name = p.events && p.events[record.event];
      if (!name) {
        return false;
      }
      var layer = window[p.object || "dataLayer"] = window[p.object || "dataLayer"] || [];
      // every key is pushed, null when absent, so GTM's merged data model never keeps a stale value
      var message = { event: name };
      var values = mapped(record, p.fields, null);
      for (var key in values) {
        if (Object.prototype.hasOwnProperty.call(values, key)) {
          message[key] = values[key];
        }
      }
      layer.push(message);
      return true;
    },
    ga4: function (record, p, gtag) {
      var name = p.events && p.events[record.event];
      if (!name) {
        return false;
      }
      var limits = p.limits || {};
      var valueMax = limits.value || 100;
      var paramMax = limits.params || 25;
      var keyMax = limits.param_name || 40;
      var all = mapped(record, p.fields);
      var params = {};
      var count = 0;
      for (var key in all) {
        if (Object.prototype.hasOwnProperty.call(all, key)) {
          if (count >= paramMax) {
            state.truncated++;
            break;
          }
          params[key.slice(0, keyMax)] = cutChars(all[key], valueMax);
          count++;
        }
      }
      if (p.send_to) {
        params.send_to = p.send_to;
      }
      gtag("event", String(name).slice(0, limits.event_name || 40), params);
      return true;
    },
    websdk: function (record, p, alloy) {
      var type = p.events && p.events[record.event];
      if (!type) {
        return false;
      }
      var xdm = { eventType: type, timestamp: record.ts, _id: record.event_id };
      var link = p.link_names && p.link_names[record.event];
      if (link) {
        xdm.web = {
          webInteraction: { name: link, type: "other", URL: record.page_url, linkClicks: { value: 1 } }
        };
      }
      var options = { xdm: xdm };
      if (p.data_path) {
        options.data = {};
        setPath(options.data, p.data_path, mapped(record, p.fields));
      }
      if (p.xdm_path) {
        setPath(xdm, p.xdm_path, mapped(record, p.fields));
      }
      watch(alloy("sendEvent", options), "websdk");
      return true;
    },
    appmeasurement: function (record, p, s) {
      var success = p.events && p.events[record.event];
      var linkName = (p.link_names && p.link_names[record.event]) || success;
      if (!linkName) {
        return false;
      }
      var limits = p.limits || {};
      var all = mapped(record, p.fields);
      // variable overrides for this call only: the page's own s.eVarN values are left untouched
      var overrides = {};
      var names = [];
      for (var key in all) {
        if (Object.prototype.hasOwnProperty.call(all, key)) {
          overrides[key] = cutBytes(all[key], /^prop/.test(key) ? limits.prop_bytes || 100
            : limits.evar_bytes || 255);
          names.push(key);
        }
      }
      if (success) {
        overrides.events = success;
        overrides.linkTrackEvents = success;
        names.push("events");
      } else {
        overrides.linkTrackEvents = "None";
      }
      overrides.linkTrackVars = names.length ? names.join(",") : "None";
      s.tl(true, p.link_type || "o", linkName, overrides);
      return true;
    },
    segment: function (record, p, analytics) {
      var name = p.events && p.events[record.event];
      if (!name) {
        return false;
      }
      watch(analytics.track(name, mapped(record, p.fields)), "segment");
      return true;
    },
    endpoint: function (record, p) {
      if (!config.endpoint) {
        return null;
      }
      // the capture format, one JSON line per event (chatanalytics.read_events reads it)
      var body = JSON.stringify({
        ts: record.ts, event: record.event, payload: record.payload, page_url: record.page_url,
        visitor_id: visitorId(p.storage_key || "chatanalytics_vid"), event_id: record.event_id
      }) + "\n";
      var nav = window.navigator;
      if (nav && typeof nav.sendBeacon === "function" && nav.sendBeacon(config.endpoint, body)) {
        return true;
      }
      if (typeof window.fetch === "function") {
        watch(window.fetch(config.endpoint, {
          method: "POST", body: body, keepalive: true, mode: "no-cors",
          headers: { "Content-Type": "text/plain;charset=UTF-8" }
        }), "endpoint");
        return true;
      }
      return null;
    }
  };

  function forward(constant, event) {
    var record = makeRecord(constant, event);
    for (var i = 0; i < destinations.length; i++) {
      var name = destinations[i];
      try {
        var send = SEND[name];
        var p = plan[name] || {};
        var target = send ? tool(name, p) : null;
        var result = target === null ? null : send(record, p, target);
        if (result === true) {
          state.sent[name]++;
        } else if (result === null) {
          state.skipped[name]++;
        }
      } catch (err) {
        fail(name, err);
      }
    }
  }

  function listener(constant) {
    return function (event) {
      try {
        forward(constant, event);
      } catch (err) {
        fail("snippet", err);
      }
    };
  }

  // ---- finding Dynamic Chat and subscribing once per instance ----
  function findApi() {
    var dx = window.AdobeDX;
    if (dx && typeof dx.addListener === "function" && dx.Enum && dx.Enum.Events) {
      return { owner: dx, addListener: dx.addListener, events: dx.Enum.Events, via: "AdobeDX" };
    }
    // older pages call the bare globals addListener(Enum.Events.X, ...)
    var en = window.Enum;
    if (typeof window.addListener === "function" && en && en.Events &&
        en.Events.CONVERSATION_TRIGGERED !== undefined) {
      return { owner: window, addListener: window.addListener, events: en.Events, via: "globals" };
    }
    return null;
  }

  function subscribe(trigger) {
    try {
      var api = findApi();
      if (!api) {
        return;
      }
      for (var k = 0; k < instances.length; k++) {
        if (instances[k] === api.addListener) {
          return;  // this Dynamic Chat instance already has our listeners
        }
      }
      instances.push(api.addListener);
      var subscribed = [];
      for (var i = 0; i < EVENTS.length; i++) {
        var value = api.events[EVENTS[i]];
        if (value === undefined) {
          continue;
        }
        try {
          api.addListener.call(api.owner, value, listener(EVENTS[i]));
          subscribed.push(EVENTS[i]);
        } catch (err) {
          fail("snippet", err);
        }
      }
      state.events = subscribed;
      state.subscribed = subscribed.length > 0;
      state.via = api.via + " (" + trigger + ")";
    } catch (err) {
      fail("snippet", err);
    }
  }

  function onReady() {
    subscribe("ready event");
  }

  try {
    window.addEventListener(READY, onReady);
    if (window.document) {
      window.document.addEventListener(READY, onReady);
    }
    // Dynamic Chat already loaded (its ready event fired before this code ran): subscribe now
    subscribe("already loaded");
    if (!window.document || window.document.readyState !== "complete") {
      window.addEventListener("load", function () {
        subscribe("page load");
      });
    }
  } catch (err) {
    fail("snippet", err);
  }
})(typeof window !== "undefined" ? window : null,
  typeof chatanalyticsCaptureConfig === "object" && chatanalyticsCaptureConfig ? chatanalyticsCaptureConfig
    : (typeof window !== "undefined" && window.chatanalyticsCaptureConfig) || null);
