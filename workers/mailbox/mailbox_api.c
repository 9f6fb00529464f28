/* mailbox_api.c - a mailbox shard's HTTP API op rows (wk-mailbox(8)).
 *
 * wk-api validates each request in the reference's words and sends the
 * shard that owns the uid one binary op row (wk_msgtypes.h 100-119, payloads
 * documented there).  What an op reads and writes is in the iteration's
 * transaction (p->txn); its one API_ANSWER leaves after that commits
 * (durable as storage.sync says), 500 if it failed; wk-api makes the JSON.  A payload that does not decode is a bug in wk-api (fatal), or
 * from a tool a 400 (wk_answer_bad).
 */
#include <db.h>
#include "mailbox.h"
#include "wk_log.h"
#include "wk_txn.h"

static const struct wk_op ops[] = {
	{ WK_MSG_MAILBOX_USER_TOKEN, mailbox_op_user_token },
	{ WK_MSG_MAILBOX_DEVICE_QUIT, mailbox_op_device_quit },
	{ WK_MSG_MAILBOX_USER_FLAGS, mailbox_op_user_flags },
	{ WK_MSG_MAILBOX_SYSUID_ADD, mailbox_op_sysuid_add },
	{ WK_MSG_MAILBOX_SYSUID_REMOVE, mailbox_op_sysuid_remove },
	{ WK_MSG_MAILBOX_SYSUID_LIST, mailbox_op_sysuid_list },
	{ WK_MSG_MAILBOX_CONV_ROWS, mailbox_op_conv_rows },
	{ WK_MSG_MAILBOX_CONV_SET, mailbox_op_conv_set },
	{ WK_MSG_MAILBOX_CONV_REMOVE, mailbox_op_conv_remove },
	{ WK_MSG_MAILBOX_CONV_DELETE, mailbox_op_conv_delete },
	{ WK_MSG_MAILBOX_CMD_SYNC, mailbox_op_cmd_sync },
	{ WK_MSG_MAILBOX_CMD_SYNCACK, mailbox_op_cmd_syncack },
};

void
mailbox_on_op(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	int rc;
	struct wk_answer *a = wk_answer_op(p, ops, sizeof ops / sizeof ops[0], h, msg, &rc);

	if (rc < 0)
		wk_answer_bad(p, a, "malformed payload");
	else if (!wk_txn_is_open(p->txn))
		wk_answer_send(p, 0, a);      /* it touched no database */
	else if (wk_txn_after_commit(p->txn, wk_answer_send, a) < 0)
		wk_answer_send(p, -1, a);
}

int
mailbox_walk_end(struct wk_answer *a, int rc, const char *db)
{
	if (rc == 0 || rc == DB_NOTFOUND)
		return 0;
	wk_log_warnx("%s walk: %s", db, db_strerror(rc));
	wk_answer_error(a, 500, "storage error");
	return -1;
}
