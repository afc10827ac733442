/* placeholder: being written. */
#include "methods.h"

const method_def overdue_methods[] = {
    {NULL, NULL, 0},
};

int overdue_register_statements(void) { return 0; }
