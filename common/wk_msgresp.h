/* wk_msgresp.h - a message as the reference's MessageResp JSON object
 * (http-api.md §2): the one builder for the HTTP answers of wk-channel and
 * wk-mailbox and for the webhook bodies.  Needs jansson. */
#ifndef WK_MSGRESP_H
#define WK_MSGRESP_H
#include <jansson.h>
#include "wk_chmsg.h"

/* from_uid "" for the system uid; a person chat's channel_id is the member
 * of the stored "a@b" id that is not the sender (the reference's QUIRK);
 * message_seq is m->seq. */
json_t *wk_msgresp(const struct wk_chmsg *m);

/* The from_uid and channel_id MessageResp shows of m (the rules above),
 * as views into m: 1 when they and client_msg_no are UTF-8 (jansson makes
 * the object), else 0. */
int wk_msgresp_names(const struct wk_chmsg *m, const char **from, size_t *from_len,
    const char **peer, size_t *peer_len);

/* The same object written with the streaming writer (wk_jw.h), field for
 * field in wk_msgresp's order, so the bytes are json_dumps' (JSON_COMPACT):
 * 0, or -1 and nothing written when wk_msgresp would make none (a string
 * that is not UTF-8). */
struct wk_jw;
int wk_msgresp_write(struct wk_jw *w, const struct wk_chmsg *m);

#endif
