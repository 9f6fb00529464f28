/* broker.c - wk-broker: the client connection broker (wk-broker(8)).
 *
 * Will own the client sockets (TCP addr, WebSocket wsAddr, wssAddr; the
 * broker processes share the ports with SO_REUSEPORT) and their crypto
 * state.  For now it maps the presence segment read-only, answers the
 * built-in STATUS_REQ and PING_REQ, and stops cleanly; the listeners come
 * with the connection layer. */
#include "presence.h"
#include "wk_log.h"
#include "wk_proc.h"

static struct broker {
	struct presence presence;
} broker;

static int
broker_on_start(struct wk_proc *p)
{
	return presence_attach(&broker.presence, p->cfg.runDir, 0);
}

static void
broker_on_stop(struct wk_proc *p)
{
	presence_close(&broker.presence);
}

static const struct wk_proc_def broker_def = {
	.name = "wk-broker",
	.role = WK_ROLE_BROKER,
	.sharded = 1,
	.on_start = broker_on_start,
	.on_stop = broker_on_stop,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &broker_def);
}
