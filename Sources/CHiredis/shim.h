#ifndef TOPCOINS_CHIREDIS_SHIM_H
#define TOPCOINS_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
