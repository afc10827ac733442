/* placeholder: being written (reports helper). */
#include "report.h"

#include <stdio.h>

int report_write_xlsx(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen)
{
    (void)conn; (void)p; (void)path; (void)rows;
    snprintf(err, errlen, "reports are not written yet");
    return -1;
}

int report_write_html(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen)
{
    (void)conn; (void)p; (void)path; (void)rows;
    snprintf(err, errlen, "reports are not written yet");
    return -1;
}
