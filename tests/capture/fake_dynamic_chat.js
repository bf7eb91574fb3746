// A stand-in for Adobe Dynamic Chat's callback API (window.AdobeDX = {addListener, Enum: {Events}}),
// with a scripted visit: three sessions that fire all 11 events in a realistic order.
(function () {
  var CONSTANTS = [
    "CONVERSATION_TRIGGERED", "CONVERSATION_ENGAGED", "CONVERSATION_COMPLETED", "CONVERSATION_CLOSED",
    "CONVERSATION_INPUT_PHONE", "CONVERSATION_INPUT_EMAIL", "CONVERSATION_MEETING_BOOKED",
    "CONVERSATION_LIVE_CHAT_REQUESTED", "CONVERSATION_LIVE_CHAT_INITIATED", "CONVERSATION_LIVE_CHAT_ENDED",
    "CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT"
  ];
  // Adobe does not document the constants' values: these differ from the names on purpose
  var events = {};
  CONSTANTS.forEach(function (c) { events[c] = "dx:" + c.toLowerCase(); });
  var listeners = {};

  function addListener(value, callback) {
    (listeners[value] = listeners[value] || []).push(callback);
  }

  function merge() {
    var out = {};
    for (var i = 0; i < arguments.length; i++) {
      for (var k in arguments[i]) { out[k] = arguments[i][k]; }
    }
    return out;
  }

  var pricing = { name: "Pricing page dialogue", id: 4471902, type: "dialogue", uiType: "popup" };
  var demo = { name: "Demo request flow", id: "cf-88", type: "conversation flow", uiType: "chatbot" };
  var a = merge(pricing, { sid: "9fd34fb24d7398ce" });
  var b = merge(demo, { sid: "7c1e0b5a93d2f4e6" });
  var c = merge(pricing, { sid: "0a6b2d9e4f1c8b37" });
  var dana = { agentName: "Dana Whitfield", agentID: "agent-1042" };
  var sam = { agentName: "Sam Ortiz <sam.ortiz@example.com>", agentID: "agent-2077" };
  var meeting = {
    meetingId: "m-5521", start: "2026-10-05T14:00:00Z", end: "2026-10-05T14:30:00Z",
    timezone: "America/New_York", calendar: "Dana Whitfield - Sales",
    attendee: { email: "jane.doe@example.com", phone: "+1 555 0100 123" },
    notes: "Call me back at (555) 010-0123 before the meeting: we are comparing the Team and " +
      "Enterprise plans for 40 seats and need SSO"
  };

  var SCRIPT = [
    ["CONVERSATION_TRIGGERED", a],
    ["CONVERSATION_ENGAGED", a],
    ["CONVERSATION_INPUT_EMAIL", merge(a, { email: "jane.doe@example.com" })],
    ["CONVERSATION_LIVE_CHAT_REQUESTED", merge(a, dana)],
    ["CONVERSATION_LIVE_CHAT_INITIATED", merge(a, dana)],
    ["CONVERSATION_LIVE_CHAT_ENDED", merge(a, dana)],
    ["CONVERSATION_MEETING_BOOKED", merge(a, dana, { meetingInfo: meeting })],
    ["CONVERSATION_COMPLETED", a],
    ["CONVERSATION_TRIGGERED", b],
    ["CONVERSATION_ENGAGED", b],
    ["CONVERSATION_INPUT_PHONE", merge(b, { phone: "+1 555 0100 123" })],
    ["CONVERSATION_LIVE_CHAT_REQUESTED", merge(b, sam)],
    ["CONVERSATION_LIVE_CHAT_REQUEST_TIMEOUT", merge(b, sam)],
    ["CONVERSATION_CLOSED", b],
    ["CONVERSATION_TRIGGERED", c]
  ];

  function fire(constant, payload) {
    (listeners[events[constant]] || []).forEach(function (callback) {
      callback({ data: { payload: payload } });
    });
  }

  window.fakeDynamicChat = {
    done: false,
    // one callback with the given payload, fired at once
    fire: fire,
    // "adobedx": the current window.AdobeDX namespace; "globals": the bare addListener / Enum of older pages
    install: function (mode) {
      if (mode === "globals") {
        window.addListener = addListener;
        window.Enum = { Events: events };
      } else {
        window.AdobeDX = { addListener: addListener, Enum: { Events: events } };
      }
    },
    ready: function () {
      window.dispatchEvent(new Event("adobedx.conversations.ready"));
    },
    listenerCount: function () {
      var n = 0;
      for (var k in listeners) { n += listeners[k].length; }
      return n;
    },
    // fires the script from the event loop, as the widget does, so an exception escaping a listener
    // would surface as a page error
    play: function () {
      var i = 0;
      function next() {
        if (i >= SCRIPT.length) {
          window.fakeDynamicChat.done = true;
          return;
        }
        var step = SCRIPT[i++];
        setTimeout(next, 0);
        fire(step[0], step[1]);
      }
      setTimeout(next, 0);
      return SCRIPT.length;
    }
  };
})();
