/* api_routes.c - wk-api's route table (wk-api(8)): method and path to the
 * handler.  The handlers live by resource: api_user.c, api_channel.c,
 * api_message.c, api_conv.c, api_stream.c.
 */
#include <string.h>
#include "api.h"

static const struct api_route api_routes[] = {
	{ "GET", "/health", api_route_health },
	{ "GET", "/route", api_route_route },
	{ "POST", "/route/batch", api_route_route_batch },
	{ "POST", "/user/token", api_route_user_token },
	{ "POST", "/user/device_quit", api_route_user_device_quit },
	{ "POST", "/user/onlinestatus", api_route_user_onlinestatus },
	{ "POST", "/user/systemuids_add", api_route_sysuids_add },
	{ "POST", "/user/systemuids_remove", api_route_sysuids_remove },
	{ "GET", "/user/systemuids", api_route_sysuids },
	{ "POST", "/channel", api_route_channel },
	{ "POST", "/channel/info", api_route_channel_info },
	{ "POST", "/channel/delete", api_route_channel_delete },
	{ "POST", "/channel/subscriber_add", api_route_subscriber_add },
	{ "POST", "/channel/subscriber_remove", api_route_subscriber_remove },
	{ "POST", "/channel/subscriber_remove_all", api_route_subscriber_remove_all },
	{ "POST", "/channel/blacklist_add", api_route_list },
	{ "POST", "/channel/blacklist_set", api_route_list },
	{ "POST", "/channel/blacklist_remove", api_route_list },
	{ "POST", "/channel/blacklist_remove_all", api_route_list },
	{ "POST", "/channel/whitelist_add", api_route_list },
	{ "POST", "/channel/whitelist_set", api_route_list },
	{ "POST", "/channel/whitelist_remove", api_route_list },
	{ "POST", "/channel/whitelist_remove_all", api_route_list },
	{ "GET", "/channel/whitelist", api_route_whitelist_get },
	{ "POST", "/message/send", api_route_message_send },
	{ "POST", "/message/sendbatch", api_route_message_sendbatch },
	{ "POST", "/messages", api_route_messages },
	{ "POST", "/message", api_route_message },
	{ "GET", "/message/byclientmsgno", api_route_message_byclientmsgno },
	{ "POST", "/channel/messagesync", api_route_channel_messagesync },
	{ "GET", "/channel/max_message_seq", api_route_max_message_seq },
	{ "GET", "/channel/last_message", api_route_last_message },
	{ "POST", "/message/event", api_route_message_event },
	{ "POST", "/message/eventsync", api_route_message_eventsync },
	{ "POST", "/conversation/sync", api_route_conversation_sync },
	{ "POST", "/conversation/syncByChannels", api_route_conversation_sync_by_channels },
	{ "POST", "/conversation/channels", api_route_conversation_channels },
	{ "POST", "/conversations/setUnread", api_route_conversations_set_unread },
	{ "POST", "/conversations/clearUnread", api_route_conversations_clear_unread },
	{ "POST", "/conversations/delete", api_route_conversations_delete },
	{ "POST", "/message/sync", api_route_message_sync },
	{ "POST", "/message/syncack", api_route_message_syncack },
};

const struct api_route *
api_route_find(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (strcmp(api_routes[i].path, path) == 0 && strcmp(api_routes[i].method, method) == 0)
			return &api_routes[i];
	return NULL;
}
