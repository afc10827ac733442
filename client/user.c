/* placeholder: being written. */
#include "baobao.h"
