// demo.js - the demo chat on the official JS SDK (wk-api(8), DEMO CHAT).
// The page asks /route (on the server that served it) where the
// WebSocket listener is, connects with the uid and token given, and shows
// the messages of one person or group chat.
import WKSDK from './sdk/index.js';
import { ConnectStatus } from './sdk/connect_manager.js';

const $ = (id) => document.getElementById(id);
const sdk = WKSDK.shared();
const statusNames = { 0: 'disconnected', 1: 'connected', 2: 'connecting', 3: 'refused', 4: 'kicked' };
let channel = null;

function line(text, from, mine) {
	const d = document.createElement('div');
	d.className = 'msg' + (mine ? ' mine' : '');
	const who = document.createElement('small');
	who.textContent = from + ': ';
	d.append(who, document.createTextNode(text));
	$('log').append(d);
	$('log').scrollTop = $('log').scrollHeight;
}

$('join').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	const uid = $('uid').value.trim();
	const route = await (await fetch('/route?uid=' + encodeURIComponent(uid))).json();
	const secure = location.protocol === 'https:' && route.wss_addr;
	sdk.config.addr = secure ? route.wss_addr : route.ws_addr;
	sdk.config.uid = uid;
	sdk.config.token = $('token').value || 'demo';
	channel = sdk.newChannel($('peer').value.trim(), $('group').checked ? 2 : 1);
	sdk.connectManager.addConnectStatusListener((status, reason) => {
		const ok = status === ConnectStatus.Connected;
		$('status').textContent = (statusNames[status] || status) + (!ok && reason ? ` (reason ${reason})` : '');
		$('chat').hidden = status !== ConnectStatus.Connected;
	});
	sdk.connectManager.connect();
	$('connect').disabled = true;
});

// Messages of the open chat, ours (the SDK's local echo) and the others'.
sdk.chatManager.addMessageListener((m) => {
	if (!channel || !m.channel)
		return;
	const ours = m.fromUID === sdk.config.uid || m.send;
	const same = m.channel.channelType === channel.channelType &&
	    (m.channel.channelID === channel.channelID || (channel.channelType === 1 && m.fromUID === channel.channelID));
	if (same || ours)
		line(m.content && m.content.text !== undefined ? m.content.text : '(type ' + m.contentType + ')',
		    ours ? 'me' : m.fromUID, ours);
});

$('say').addEventListener('submit', (ev) => {
	ev.preventDefault();
	const text = $('text').value;
	if (!text || !channel)
		return;
	sdk.chatManager.send(sdk.newMessageText(text), channel);
	$('text').value = '';
});
