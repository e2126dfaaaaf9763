// The conformance steps with twilio-node (tests/sandbox/test_conformance.py runs it): each step's
// last exchange is printed, as JSON, for the test to check against Twilio's spec.
const twilio = require("twilio");
const log = [];
class SandboxHttp extends twilio.RequestClient {
  async request(opts) {
    const response = await super.request({ ...opts, uri: opts.uri.replace("https://api.twilio.com", process.env.BASE) });
    const body = response.body === undefined || response.body === null ? "" :
      (typeof response.body === "string" ? response.body : JSON.stringify(response.body));
    log.push({ method: opts.method.toLowerCase(), url: opts.uri, status: response.statusCode, body,
               headers: response.headers || {} });
    return response;
  }
}
const client = twilio(process.env.SID, process.env.TOKEN, { httpClient: new SandboxHttp() });
const A = "/2010-04-01/Accounts/{AccountSid}";
const s = {};
const twiml = '<Response><Say>Hello</Say><Pause length="30"/></Response>';
const steps = [
  ["/2010-04-01/Accounts.json", "get", () => client.api.v2010.accounts.list()],
  ["/2010-04-01/Accounts/{Sid}.json", "get", () => client.api.v2010.accounts(process.env.SID).fetch()],
  ["/2010-04-01/Accounts/{Sid}.json", "post", () => client.api.v2010.accounts(process.env.SID).update({ friendlyName: "Node" })],
  [A + "/AvailablePhoneNumbers.json", "get", () => client.availablePhoneNumbers.list()],
  [A + "/AvailablePhoneNumbers/{CountryCode}.json", "get", () => client.availablePhoneNumbers("US").fetch()],
  [A + "/AvailablePhoneNumbers/{CountryCode}/Local.json", "get", async () => {
    s.local = await client.availablePhoneNumbers("US").local.list({ areaCode: 415, inLocality: "San Francisco", limit: 10 }); }],
  [A + "/AvailablePhoneNumbers/{CountryCode}/TollFree.json", "get", async () => {
    s.tollFree = await client.availablePhoneNumbers("US").tollFree.list({ limit: 5 }); }],
  [A + "/AvailablePhoneNumbers/{CountryCode}/Mobile.json", "get", async () => {
    s.mobile = await client.availablePhoneNumbers("GB").mobile.list({ limit: 5 }); }],
  [A + "/IncomingPhoneNumbers.json", "post", async () => {
    s.number = (await client.incomingPhoneNumbers.create({ phoneNumber: s.local.shift().phoneNumber })).sid; }],
  [A + "/IncomingPhoneNumbers/Local.json", "post", () => client.incomingPhoneNumbers.local.create({ phoneNumber: s.local.shift().phoneNumber })],
  [A + "/IncomingPhoneNumbers/TollFree.json", "post", () => client.incomingPhoneNumbers.tollFree.create({ phoneNumber: s.tollFree.shift().phoneNumber })],
  // GB mobiles need an address in the United Kingdom (sandbox/requirements.py): one is made first.
  [A + "/IncomingPhoneNumbers/Mobile.json", "post", async () => {
    const address = await client.addresses.create({ customerName: "Node Ltd", street: "1 High St", city: "London",
      region: "London", postalCode: "EC1A 1AA", isoCountry: "GB" });
    return client.incomingPhoneNumbers.mobile.create({ phoneNumber: s.mobile.shift().phoneNumber, addressSid: address.sid }); }],
  [A + "/IncomingPhoneNumbers.json", "get", () => client.incomingPhoneNumbers.list({ pageSize: 2 })],
  [A + "/IncomingPhoneNumbers/Local.json", "get", () => client.incomingPhoneNumbers.local.list()],
  [A + "/IncomingPhoneNumbers/TollFree.json", "get", () => client.incomingPhoneNumbers.tollFree.list()],
  [A + "/IncomingPhoneNumbers/Mobile.json", "get", () => client.incomingPhoneNumbers.mobile.list()],
  [A + "/IncomingPhoneNumbers/{Sid}.json", "get", () => client.incomingPhoneNumbers(s.number).fetch()],
  [A + "/IncomingPhoneNumbers/{Sid}.json", "post", () => client.incomingPhoneNumbers(s.number).update({
    voiceCallerIdLookup: true, voiceReceiveMode: "voice", addressSid: "AD" + "1".repeat(32),
    emergencyAddressSid: "AD" + "2".repeat(32), emergencyStatus: "Active", bundleSid: "BU" + "3".repeat(32),
    identitySid: "RI" + "4".repeat(32), trunkSid: "TK" + "5".repeat(32), voiceUrl: "https://example.com/voice" })],
  [A + "/Messages.json", "post", async () => {
    s.message = (await client.messages.create({ to: "+14155550123", from: "+15005550006", body: "Hello" })).sid; }],
  [A + "/Messages.json", "get", () => client.messages.list({ to: "+14155550123" })],
  [A + "/Messages/{Sid}.json", "get", () => client.messages(s.message).fetch()],
  [A + "/Messages/{Sid}.json", "post", () => client.messages(s.message).update({ body: "" })],
  [A + "/Messages/{Sid}.json", "delete", () => client.messages(s.message).remove()],
  [A + "/Calls.json", "post", async () => {
    s.call = (await client.calls.create({ to: "+14155550123", from: "+15005550006", twiml })).sid; }],
  [A + "/Calls.json", "get", () => client.calls.list({ from: "+15005550006" })],
  [A + "/Calls/{Sid}.json", "get", () => client.calls(s.call).fetch()],
  [A + "/Calls/{CallSid}/Recordings.json", "post", async () => {
    s.recording = (await client.calls(s.call).recordings.create()).sid; }],
  [A + "/Calls/{CallSid}/Recordings.json", "get", () => client.calls(s.call).recordings.list()],
  [A + "/Calls/{CallSid}/Recordings/{Sid}.json", "post", () => client.calls(s.call).recordings(s.recording).update({ status: "paused" })],
  [A + "/Calls/{CallSid}/Recordings/{Sid}.json", "get", () => client.calls(s.call).recordings(s.recording).fetch()],
  [A + "/Calls/{Sid}.json", "post", () => client.calls(s.call).update({ twiml: "<Response><Say>Redirected</Say></Response>" })],
  [A + "/Calls/{Sid}.json", "post", () => client.calls(s.call).update({ status: "completed" })],
  [A + "/Recordings.json", "get", () => client.recordings.list()],
  [A + "/Recordings/{Sid}.json", "get", () => client.recordings(s.recording).fetch()],
  [A + "/Calls/{CallSid}/Recordings/{Sid}.json", "delete", () => client.calls(s.call).recordings(s.recording).remove()],
  [A + "/Calls/{Sid}.json", "delete", () => client.calls(s.call).remove()],
  [A + "/Calls.json", "post", async () => {
    s.second = (await client.calls.create({ to: "+14155550123", from: "+15005550006", twiml })).sid; }],
  [A + "/Calls/{CallSid}/Recordings.json", "post", async () => {
    s.secondRecording = (await client.calls(s.second).recordings.create()).sid; }],
  [A + "/Calls/{Sid}.json", "post", () => client.calls(s.second).update({ status: "canceled" })],
  [A + "/Recordings/{Sid}.json", "delete", () => client.recordings(s.secondRecording).remove()],
  [A + "/IncomingPhoneNumbers/{Sid}.json", "delete", () => client.incomingPhoneNumbers(s.number).remove()],
];
(async () => {
  const results = [];
  for (const [path, method, run] of steps) {
    let error = null;
    try { await run(); } catch (e) { error = String(e && e.message || e); }
    results.push({ path, method, error, exchange: log[log.length - 1] || null });
  }
  process.stdout.write(JSON.stringify(results));
})();
