/* broker_tls.c - TLS for wssAddr (OpenSSL): one SSL_CTX from
 * wssConfig.certFile and wssConfig.keyFile, a non-blocking handshake per
 * connection, and the read/write functions every connection uses (plain
 * sockets when there is no TLS).
 *
 * A wss connection lives in the same event loop as the plain ones: OpenSSL
 * is driven non-blocking on the connection's socket and its "want read /
 * want write" answers become EAGAIN, so broker_conn.c has one read path
 * and one write path for tcp, ws and wss (wk-broker(8)).  After the
 * handshake a wss connection is a ws one: the upgrade, then wslay. */
#include <errno.h>
#include <unistd.h>
#include <openssl/err.h>
#include "broker.h"
#include "wk_log.h"

/* Load the certificate chain and key once at start: a bad pair fails the
 * broker's start, not the first client.  TLS 1.2 is the floor.  Partial and
 * moving-buffer writes let the output buffer be written in pieces and grow
 * (realloc) between retries; released buffers keep idle connections small. */
int
broker_tls_init(const struct wk_config *cfg)
{
	broker.tls = SSL_CTX_new(TLS_server_method());
	if (broker.tls == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(broker.tls, TLS1_2_VERSION);
	SSL_CTX_set_mode(broker.tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(broker.tls, cfg->wssConfig_certFile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(broker.tls, cfg->wssConfig_keyFile, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(broker.tls) != 1) {
		wk_log_warnx("wss: cannot load %s / %s: %s", cfg->wssConfig_certFile,
		    cfg->wssConfig_keyFile, ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(broker.tls);
		broker.tls = NULL;
		return -1;
	}
	return 0;
}

/* An accepted wss socket: a server-side SSL on it, handshake pending. */
int
broker_tls_start(struct broker_conn *c)
{
	c->ssl = SSL_new(broker.tls);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	SSL_set_accept_state(c->ssl);
	return 0;
}

/* Advance the handshake: 1 done, 0 call again when the socket is ready,
 * -1 failed (the caller closes the connection). */
int
broker_tls_handshake(struct broker_conn *c)
{
	int rc = SSL_do_handshake(c->ssl);

	if (rc == 1)
		return 1;
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		/* Rare during accept: wait for writability via the out path. */
		wk_loop_mod(broker.proc->loop, c->fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
		c->want_write = 1;
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

/* Map an SSL result to read(2) conventions. */
static ssize_t
tls_result(struct broker_conn *c, int rc)
{
	if (rc > 0)
		return rc;
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

/* read(2) for every kind of connection: through TLS when c has it. */
ssize_t
broker_io_read(struct broker_conn *c, void *buf, size_t n)
{
	if (c->ssl)
		return tls_result(c, SSL_read(c->ssl, buf, (int)n));
	return read(c->fd, buf, n);
}

/* write(2) for every kind of connection, same conventions as read. */
ssize_t
broker_io_write(struct broker_conn *c, const void *buf, size_t n)
{
	if (c->ssl)
		return tls_result(c, SSL_write(c->ssl, buf, (int)n));
	return write(c->fd, buf, n);
}

/* Free the connection's TLS state; the socket itself is closed by the caller. */
void
broker_tls_free(struct broker_conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
}
