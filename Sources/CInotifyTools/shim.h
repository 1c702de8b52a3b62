#ifndef MEDIA_JANITOR_CINOTIFYTOOLS_SHIM_H
#define MEDIA_JANITOR_CINOTIFYTOOLS_SHIM_H

#include <inotifytools/inotifytools.h>
#include <sys/inotify.h>

#endif
