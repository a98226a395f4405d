/* wrap_real.c: find the C library's own function behind a preloaded one. */
#include <dlfcn.h>

void *sockscope_real(const char *name);

void *sockscope_real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}
