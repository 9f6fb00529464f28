/* wk_config_schema.h - every configuration key, once: the schema table.
 *
 * X(path, kind, field, default, min, max, reloadable, help)
 *   path:   the YAML key path as the reference server spells it (case-insensitive
 *           when read); WK_<PATH with . -> _ , upper-cased> overrides it.
 *   kind:   STR, BOOL, INT, DUR (milliseconds; Go syntax 500ms/30s/5m/2h, plus d),
 *           SIZE (bytes; 64k/16m/1g), COUNT (integer or "auto"; auto = perCore x cores for shards, cores for brokers),
 *           ENUM (one of the words in `min`, a "|" list), LIST (strings).
 *   field:  the member of struct wk_config (spelt like the key, dots -> _).
 *   default: a string, parsed like a value from the file.
 *   min/max: bounds for INT, DUR, SIZE, COUNT (0/0 = unbounded); the word list for ENUM.
 *   reloadable: 1 if SIGHUP applies a change without a restart.
 * The order here is the order of wk.yaml and of wk.yaml(5).
 */
/* ---- listeners (reference names) ---- */
X("addr", STR, addr, "tcp://0.0.0.0:5100", 0, 0, 0, "WKProto over TCP listen address")
X("wsAddr", STR, wsAddr, "ws://0.0.0.0:5200", 0, 0, 0, "WKProto over WebSocket listen address")
X("wssAddr", STR, wssAddr, "", 0, 0, 0, "WKProto over secure WebSocket listen address; empty = off")
X("wssConfig.certFile", STR, wssConfig_certFile, "", 0, 0, 0, "PEM certificate chain for wssAddr")
X("wssConfig.keyFile", STR, wssConfig_keyFile, "", 0, 0, 0, "PEM private key for wssAddr")
X("httpAddr", STR, httpAddr, "0.0.0.0:5001", 0, 0, 0, "HTTP API listen address")
X("manager.on", BOOL, manager_on, "true", 0, 0, 0, "serve the web console on manager.addr (wk-api(8), CONSOLE)")
X("manager.addr", STR, manager_addr, "127.0.0.1:5300", 0, 0, 0, "web console listen address; loopback unless set (the reference listens on 0.0.0.0:5300)")
X("demo.on", BOOL, demo_on, "true", 0, 0, 0, "serve the demo chat page on demo.addr (wk-api(8), DEMO CHAT)")
X("demo.addr", STR, demo_addr, "127.0.0.1:5172", 0, 0, 0, "demo chat listen address; loopback unless set (the reference listens on 0.0.0.0:5172)")
/* ---- PROXY protocol (wk's own) ---- */
X("proxyProtocol.addr", BOOL, proxyProtocol_addr, "false", 0, 0, 0, "connections to addr start with a PROXY protocol header (v1 or v2) and come from proxyProtocol.allowFrom")
X("proxyProtocol.wsAddr", BOOL, proxyProtocol_wsAddr, "false", 0, 0, 0, "the same for wsAddr")
X("proxyProtocol.wssAddr", BOOL, proxyProtocol_wssAddr, "false", 0, 0, 0, "the same for wssAddr (the header comes before TLS)")
X("proxyProtocol.allowFrom", LIST, proxyProtocol_allowFrom, "", 0, 0, 0, "networks (CIDR, or single addresses) the load balancers connect from; needed when a listener has the PROXY protocol on")
/* ---- directories ---- */
X("rootDir", STR, rootDir, "wkdata", 0, 0, 0, "base directory; a relative path is taken from the directory of the config file (the working directory when there is none)")
X("dataDir", STR, dataDir, "", 0, 0, 0, "Berkeley DB environments, one per shard; empty = <rootDir>/data")
X("runDir", STR, runDir, "", 0, 0, 0, "pid file, control socket, ipc endpoints; empty = <rootDir>/run")
/* ---- auth ---- */
X("mode", ENUM, mode, "release", "debug|release|bench", 0, 1, "debug logs at debug level; release at info")
X("tokenAuthOn", BOOL, tokenAuthOn, "true", 0, 0, 1, "check the CONNECT token against /user/token (on by default, unlike the reference)")
X("managerToken", STR, managerToken, "", 0, 0, 1, "if set, HTTP admin routes need header token: <managerToken> from every client, and managerUID connects with it")
X("managerTokenOn", BOOL, managerTokenOn, "true", 0, 0, 0, "with no managerToken: generate one into <rootDir>/managerToken and require it on admin routes from non-loopback clients; false = open API (warned at every start)")
X("managerUID", STR, managerUID, "____manager", 0, 0, 0, "the manager user id")
X("auth.users", LIST, auth_users, "", 0, 0, 1, "console logins: user:password:* may change things, user:password:[resource:r,...] reads only unless an entry has w; none = one read-only guest:guest")
X("disableEncryption", BOOL, disableEncryption, "false", 0, 0, 0, "no X25519/AES on client payloads (the JS SDK cannot work without encryption)")
X("disableJSONRPC", BOOL, disableJSONRPC, "false", 0, 0, 0, "refuse JSON-RPC (WuKongEasySDK) on the WebSocket listeners: a connection whose first message is a text frame is closed with 1003")
X("connIdleTime", DUR, connIdleTime, "3m", "1s", "24h", 1, "close a client connection after this long without inbound data")
X("connAuthTimeout", DUR, connAuthTimeout, "4s", "100ms", "5m", 1, "close a client connection that has not authenticated within this time")
X("whitelistOffOfPerson", BOOL, whitelistOffOfPerson, "true", 0, 0, 1, "true: a person chat needs no whitelist entry; false: the recipient's whitelist must hold the sender (reason 13)")
X("customerService.visitorsSuffix", STR, customerService_visitorsSuffix, "___vstr", 0, 0, 0, "uids with this suffix skip token auth")
/* ---- external addresses returned by /route ---- */
X("external.ip", STR, external_ip, "", 0, 0, 1, "address advertised to clients by /route; empty = the address each client reached: the Host of its HTTP request, else the local address of the connection")
X("external.tcpAddr", STR, external_tcpAddr, "", 0, 0, 1, "TCP address returned by /route; empty = <external.ip>:<port of addr>")
X("external.wsAddr", STR, external_wsAddr, "", 0, 0, 1, "WebSocket address returned by /route; empty = ws://<external.ip>:<port of wsAddr>")
X("external.wssAddr", STR, external_wssAddr, "", 0, 0, 1, "secure WebSocket address returned by /route; empty = derived from wssAddr when set")
X("external.apiUrl", STR, external_apiUrl, "", 0, 0, 1, "the HTTP API's URL as clients reach it, logged by wk-api at start and shown in /varz; empty = http://<external.ip, or the address the client reached>:<port of httpAddr>")
X("intranet.tcpAddr", STR, intranet_tcpAddr, "", 0, 0, 1, "TCP address returned by /route?intranet=1")
/* ---- logging ---- */
X("logger.level", INT, logger_level, "0", "0", "4", 1, "0 = by mode, 1 debug, 2 info, 3 warn, 4 error")
X("logger.dir", STR, logger_dir, "", 0, 0, 0, "append every process's log lines to <dir>/wk.log (relative to rootDir); empty = syslog, or stderr when there is no syslog socket (detached: <rootDir>/logs/wk.log)")
/* ---- webhooks ---- */
X("webhook.httpAddr", STR, webhook_httpAddr, "", 0, 0, 1, "POST <httpAddr>?event=<name>; empty = webhooks off")
X("webhook.msgNotifyEventPushInterval", DUR, webhook_msgNotifyEventPushInterval, "500ms", "10ms", "1h", 1, "msg.notify flush interval")
X("webhook.msgNotifyEventCountPerPush", INT, webhook_msgNotifyEventCountPerPush, "100", "1", "100000", 1, "messages per msg.notify request")
X("webhook.msgNotifyEventRetryMaxCount", INT, webhook_msgNotifyEventRetryMaxCount, "5", "0", "1000", 1, "attempts per webhook request (any event) before its events are dropped, logged and counted; 0 = no limit")
X("webhook.secret", STR, webhook_secret, "", 0, 0, 1, "if set, each webhook request carries X-WK-Signature: sha256=<hex HMAC-SHA256 of the body keyed with this>")
X("webhook.focusEvents", LIST, webhook_focusEvents, "", 0, 0, 1, "events to send; empty = all (msg.offline, msg.notify, user.onlinestatus)")
X("webhook.retryDelay", DUR, webhook_retryDelay, "1s", "10ms", "1h", 1, "wait before the first retry of a failed webhook request; 4 times longer before each next one, at most 1m (1s: 5 attempts span 81s)")
X("webhook.beforeSendUrl", STR, webhook_beforeSendUrl, "", 0, 0, 1, "msg.before_send: every message is POSTed here before it is stored, and the answer allows, rejects or rewrites it; empty = off")
X("webhook.beforeSendTimeout", DUR, webhook_beforeSendTimeout, "2s", "10ms", "4s", 1, "msg.before_send: the longest wait for an answer, connecting included (below wk-api's 5 s wait for a shard)")
X("webhook.beforeSendFailOpen", BOOL, webhook_beforeSendFailOpen, "true", 0, 0, 1, "msg.before_send: with no usable answer (timeout, error status, bad JSON, too many in flight) store the message (true) or refuse it with reason 15 (false)")
X("webhook.beforeSendMaxInFlight", INT, webhook_beforeSendMaxInFlight, "1024", "1", "1000000", 1, "msg.before_send: calls waiting for an answer per channel shard; past it a message is handled as with no answer")
X("agent.webhook.httpAddr", STR, agent_webhook_httpAddr, "", 0, 0, 1, "POST <httpAddr>?event=msg.notify with the messages of agent channels (type 11) instead of sending them to webhook.httpAddr, as the reference; empty = they go with the others")
X("channel.subscriberCompressOfCount", INT, channel_subscriberCompressOfCount, "0", "0", "100000000", 1, "msg.offline: above this many recipients, to_uids is sent gzip-compressed in compress_to_uids; 0 = never")
X("channel.memberCacheMax", INT, channel_memberCacheMax, "2000000", "0", "1000000000", 0, "uids of members, blacklists and whitelists each channel shard keeps in memory (its hot channels, least recently used out); a longer list is read from disk; 0 = none")
X("channel.offlineBatch", INT, channel_offlineBatch, "1000", "1", "1000000", 0, "msg.offline of a large group: uids per body; the bodies are made after the fan-out, one batch per loop iteration")
X("channel.offlineLargeGroup", INT, channel_offlineLargeGroup, "1000", "1", "100000000", 0, "msg.offline is made in batches (channel.offlineBatch) for a channel with at least this many members, or with the large flag")
X("channel.retentionDays", INT, channel_retentionDays, "0", "0", "36500", 0, "keep a channel's messages this many days; older ones are deleted from disk in the background; 0 = forever; POST /channel/retention sets a channel's own")
X("channel.retentionCount", INT, channel_retentionCount, "0", "0", "4294967294", 0, "keep at most this many of a channel's newest messages; the older ones are deleted from disk in the background; 0 = no limit")
X("channel.retentionBatch", INT, channel_retentionBatch, "200", "1", "100000", 0, "retention: messages a channel shard deletes per step (one step each 500 ms), so its loop never stalls")
X("cmd.maxPerUser", INT, cmd_maxPerUser, "10000", "0", "1000000000", 1, "cmd messages (sync_once) a user's mailbox keeps at most: past it the oldest are deleted in the background, counted (cmd_capped) and logged; 0 = no limit")
X("cmd.maxAge", DUR, cmd_maxAge, "30d", "0", "3650d", 1, "cmd messages older than this are deleted from the mailboxes in the background (users who never come back), counted (cmd_expired) and logged; 0 = kept until acknowledged")
/* ---- delivery retry ---- */
X("messageRetry.interval", DUR, messageRetry_interval, "60s", "100ms", "1h", 1, "re-send a RECV not acknowledged by RECVACK after this long")
X("messageRetry.scanInterval", DUR, messageRetry_scanInterval, "30s", "10ms", "1h", 1, "how often each broker looks for RECVs due for a re-send (no more often than its 250 ms tick): a RECV goes again between interval and interval + scanInterval after it was sent")
X("messageRetry.maxCount", INT, messageRetry_maxCount, "5", "0", "1000", 1, "re-sends per RECV before giving up (the message stays stored)")
/* ---- stream messages (wk's own) ---- */
X("stream.timeout", DUR, stream_timeout, "5m", "100ms", "24h", 1, "a stream message with no event for this long is ended with an error (end_reason 1, timeout) and its memory freed")
/* ---- conversations ---- */
X("conversation.on", BOOL, conversation_on, "true", 0, 0, 0, "keep recent conversations")
X("conversation.userMaxCount", INT, conversation_userMaxCount, "1000", "1", "1000000", 1, "max conversations returned per user by /conversation/sync")
X("conversation.lastMsgSlots", INT, conversation_lastMsgSlots, "65536", "64", "16777216", 0, "channel rows per channel shard in the last-message table")
/* ---- wk's own: process layout ---- */
X("processes.perCore", INT, processes_perCore, "1", "1", "64", 0, "shards (channel, mailbox) per core for their counts set to auto; brokers on auto are one per core")
X("processes.broker", COUNT, processes_broker, "auto", "1", "256", 0, "wk-broker processes (share the client ports with SO_REUSEPORT)")
X("processes.channel", COUNT, processes_channel, "auto", "1", "256", 0, "wk-channel shards; fixed once data exists")
X("processes.mailbox", COUNT, processes_mailbox, "auto", "1", "256", 0, "wk-mailbox shards; fixed once data exists")
/* ---- wk's own: supervisor ---- */
X("supervisor.readyTimeout", DUR, supervisor_readyTimeout, "15s", "100ms", "10m", 1, "a child that is not ready within this time is killed and restarted")
X("supervisor.stopTimeout", DUR, supervisor_stopTimeout, "10s", "100ms", "10m", 1, "SIGKILL a child still running this long after SIGTERM")
X("supervisor.respawnDelay", DUR, supervisor_respawnDelay, "100ms", "0", "1m", 1, "first respawn delay; doubles on each quick crash")
X("supervisor.respawnDelayMax", DUR, supervisor_respawnDelayMax, "30s", "100ms", "1h", 1, "upper bound of the respawn delay (crash-loop throttle)")
X("supervisor.stableAfter", DUR, supervisor_stableAfter, "1s", "100ms", "1h", 1, "a child that was ready and served this long is restarted after respawnDelay when it dies; only quicker deaths (start-up crash loops) double the delay")
X("supervisor.pingTimeout", DUR, supervisor_pingTimeout, "5s", "100ms", "10m", 1, "the master pings every child each pingTimeout/4; a child silent this long makes /health answer 503")
/* ---- wk's own: storage ---- */
X("storage.sync", ENUM, storage_sync, "fsync", "fsync|write|none", 0, 0, "fsync: durable before any ack; write: OS buffers only; none: in memory until checkpoint")
X("storage.cacheSize", SIZE, storage_cacheSize, "64m", "1m", "64g", 0, "Berkeley DB cache per shard")
X("storage.checkpointInterval", DUR, storage_checkpointInterval, "1s", "1s", "1h", 1, "checkpoint and log removal period")
/* ---- wk's own: cluster (wk-cluster(7)) ---- */
X("cluster.node", INT, cluster_node, "0", "0", "9", 0, "this host's position (1-based) in cluster.nodes; 0 = a single host (no cluster)")
X("cluster.nodes", LIST, cluster_nodes, "", 0, 0, 0, "every host of the cluster as host:port, the same list in the same order on every host: host its internal address (IPv4 or name), port the first of the 1792 internal ports it uses; \"-host:port\" marks a host taken out (its copies are removed from every shard's group)")
X("cluster.join", BOOL, cluster_join, "false", 0, 0, 0, "this host is new to a running cluster: its shards ask the running hosts to add them to their groups and copy them, and are never elected master; set it back to false (and restart) once every host lists this one")
X("cluster.routes", LIST, cluster_routes, "", 0, 0, 1, "what /route answers for each host of cluster.nodes, in the same order: \"tcpAddr wsAddr [wssAddr]\" as clients reach the host (10.0.0.11:5100 ws://10.0.0.11:5200); empty = /route names this host, as on one host")
/* ---- wk's own: presence ---- */
X("presence.capacity", INT, presence_capacity, "65536", "64", "16777216", 0, "connection slots per mailbox shard in the presence table")
/* ---- wk's own: limits ---- */
X("limits.maxPacketSize", SIZE, limits_maxPacketSize, "1m", "1k", "16m", 0, "largest WKProto packet accepted from a client")
X("limits.outputBufferMax", SIZE, limits_outputBufferMax, "4m", "64k", "1g", 1, "a client whose unsent output passes this is disconnected")
X("limits.outputTotalMax", SIZE, limits_outputTotalMax, "512m", "1m", "64g", 1, "unsent output of all a broker's connections together; past it the clients with the most waiting are disconnected until it is under half, and RECVs kept for resending take no more than the same again")
X("limits.sendWindow", INT, limits_sendWindow, "512", "1", "1000000", 1, "SENDs of one connection waiting for their SENDACK; past it the broker stops reading the connection until half are acknowledged (TCP backpressure)")
X("limits.sendBacklog", INT, limits_sendBacklog, "100000", "64", "100000000", 1, "SENDs of all a broker's connections waiting for their SENDACK; past it the connections with the most waiting are not read until half of theirs are acknowledged")
X("limits.internalQueue", SIZE, limits_internalQueue, "64m", "1m", "16g", 0, "bytes of internal messages one process may have queued for another (in batches of up to 64 KB); past it the sender refuses the work")
X("limits.maxConnections", INT, limits_maxConnections, "100000", "16", "10000000", 0, "client connections per broker")
