/* api_routes.c - wk-api's route table (wk-api(8)): method and path to the
 * handler.  The handlers live by resource: api_user.c, api_channel.c,
 * api_message.c, api_msgops.c, api_conv.c, api_stream.c, api_health.c,
 * api_metrics.c, api_connz.c.  Routes marked
 * open need no manager token (api_auth.c).
 */
#include <string.h>
#include "api.h"

static const struct api_route api_routes[] = {
	/* Open: load balancers' checks and what SDKs call need no secret. */
	{ "GET", "/health", api_route_health, 1 },
	{ "GET", "/route", api_route_route, 1 },
	{ "POST", "/route/batch", api_route_route_batch, 1 },
	{ "POST", "/user/token", api_route_user_token, 0 },
	{ "POST", "/user/device_quit", api_route_user_device_quit, 0 },
	{ "POST", "/user/onlinestatus", api_route_user_onlinestatus, 0 },
	{ "POST", "/user/systemuids_add", api_route_sysuids_add, 0 },
	{ "POST", "/user/systemuids_remove", api_route_sysuids_remove, 0 },
	{ "GET", "/user/systemuids", api_route_sysuids, 0 },
	{ "POST", "/channel", api_route_channel, 0 },
	{ "POST", "/channel/info", api_route_channel_info, 0 },
	{ "POST", "/channel/delete", api_route_channel_delete, 0 },
	{ "POST", "/channel/subscriber_add", api_route_subscriber_add, 0 },
	{ "POST", "/channel/subscriber_remove", api_route_subscriber_remove, 0 },
	{ "POST", "/channel/subscriber_remove_all", api_route_subscriber_remove_all, 0 },
	{ "POST", "/channel/blacklist_add", api_route_list, 0 },
	{ "POST", "/channel/blacklist_set", api_route_list, 0 },
	{ "POST", "/channel/blacklist_remove", api_route_list, 0 },
	{ "POST", "/channel/blacklist_remove_all", api_route_list, 0 },
	{ "POST", "/channel/whitelist_add", api_route_list, 0 },
	{ "POST", "/channel/whitelist_set", api_route_list, 0 },
	{ "POST", "/channel/whitelist_remove", api_route_list, 0 },
	{ "POST", "/channel/whitelist_remove_all", api_route_list, 0 },
	{ "GET", "/channel/whitelist", api_route_whitelist_get, 0 },
	{ "POST", "/message/send", api_route_message_send, 0 },
	{ "POST", "/message/sendbatch", api_route_message_sendbatch, 0 },
	{ "POST", "/messages", api_route_messages, 0 },
	{ "POST", "/message", api_route_message, 0 },
	{ "GET", "/message/byclientmsgno", api_route_message_byclientmsgno, 0 },
	{ "POST", "/channel/messagesync", api_route_channel_messagesync, 0 },
	{ "GET", "/channel/max_message_seq", api_route_max_message_seq, 0 },
	{ "GET", "/channel/last_message", api_route_last_message, 0 },
	{ "POST", "/message/event", api_route_message_event, 0 },
	{ "POST", "/message/eventsync", api_route_message_eventsync, 0 },
	{ "POST", "/conversation/sync", api_route_conversation_sync, 0 },
	{ "POST", "/conversation/syncByChannels", api_route_conversation_sync_by_channels, 0 },
	{ "POST", "/conversation/channels", api_route_conversation_channels, 0 },
	{ "POST", "/conversations/setUnread", api_route_conversations_set_unread, 0 },
	{ "POST", "/conversations/clearUnread", api_route_conversations_clear_unread, 0 },
	{ "POST", "/conversations/delete", api_route_conversations_delete, 0 },
	{ "POST", "/message/sync", api_route_message_sync, 0 },
	{ "POST", "/message/syncack", api_route_message_syncack, 0 },
	/* Beyond the reference (api_msgops.c). */
	{ "POST", "/message/revoke", api_route_message_revoke, 0 },
	{ "POST", "/message/edit", api_route_message_edit, 0 },
	{ "POST", "/channel/retention", api_route_channel_retention, 0 },
	/* The operator's (api_metrics.c, api_connz.c). */
	{ "GET", "/metrics", api_route_metrics, 0 },
	{ "GET", "/varz", api_route_varz, 0 },
	{ "GET", "/connz", api_route_connz, 0 },
	{ "POST", "/conn/kick", api_route_conn_kick, 0 },
	{ "POST", "/conn/remove", api_route_conn_remove, 0 },
};

const struct api_route *
api_route_find(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (strcmp(api_routes[i].path, path) == 0 && strcmp(api_routes[i].method, method) == 0)
			return &api_routes[i];
	return NULL;
}

int
api_route_is_open(const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (api_routes[i].open && strcmp(api_routes[i].path, path) == 0)
			return 1;
	return 0;
}
