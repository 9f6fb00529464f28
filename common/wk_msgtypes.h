/* wk_msgtypes.h - the one list of internal message types (an X-macro).
 *
 * X(NAME, value, description).  Values are stable on the wire between
 * processes of one build; WK_MSG_VERSION is bumped on every change to this
 * list or to a payload layout, and a peer speaking another version is refused
 * by the dispatcher.  Names are WK_MSG_<TARGET>_<EVENT>.
 */
#ifndef WK_MSG_VERSION
#define WK_MSG_VERSION 1
#endif
#ifdef X

/* Any process: introspection (wkctl status, tests). */
X(STATUS_REQ, 1, "report pid, uptime, role, instance, queue depths")
X(STATUS_REP, 2, "reply to STATUS_REQ: one text frame of key=value pairs")
X(PING_REQ, 3, "liveness probe; echoed as PING_REP with the same payload")
X(PING_REP, 4, "reply to PING_REQ")
#endif /* X */
