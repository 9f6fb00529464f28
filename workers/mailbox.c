/* mailbox.c - wk-mailbox: a user shard (wk-mailbox(8)).
 *
 * Owns the users with wk_shard_uid(uid) == its instance: tokens and devices,
 * user flags, conversation rows, cmd mailboxes, in its own Berkeley DB
 * environment <dataDir>/mailbox-<n> (opened by the skeleton); and region <n>
 * of the presence segment, which only it writes.  Messages handled: the built-in STATUS_REQ
 * and PING_REQ for now; AUTH and the user routes come with the connection
 * layer. */
#include <unistd.h>
#include "presence.h"
#include "wk_log.h"
#include "wk_proc.h"

static struct mailbox {
	struct presence presence;
} mailbox;

static const char *const mailbox_databases[] = { "users.db", NULL };

static int
mailbox_on_start(struct wk_proc *p)
{
	if (presence_attach(&mailbox.presence, p->cfg.runDir, 1) < 0)
		return -1;
	if ((uint32_t)p->instance >= mailbox.presence.hdr->nregions) {
		wk_log_warnx("no presence region %d (segment has %u)", p->instance,
		    mailbox.presence.hdr->nregions);
		return -1;
	}
	presence_region(&mailbox.presence, p->instance)->writer_pid = getpid();
	return 0;
}

static void
mailbox_on_stop(struct wk_proc *p)
{
	presence_close(&mailbox.presence);
}

static int
mailbox_on_status(struct wk_proc *p, char *buf, size_t len)
{
	struct presence_region *r = presence_region(&mailbox.presence, p->instance);
	return snprintf(buf, len, " presence_used=%u presence_capacity=%u",
	    r->used, mailbox.presence.hdr->capacity);
}

static const struct wk_proc_def mailbox_def = {
	.name = "wk-mailbox",
	.role = WK_ROLE_MAILBOX,
	.sharded = 1,
	.on_start = mailbox_on_start,
	.databases = mailbox_databases,
	.on_stop = mailbox_on_stop,
	.on_status = mailbox_on_status,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &mailbox_def);
}
