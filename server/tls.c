/* placeholder: being written (TLS helper). */
#include "tls.h"

int tls_server_init(server *s, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    s->tls = NULL;
    return 0;
}

void tls_server_free(server *s) { s->tls = NULL; }
