// AX_CHECK: programmer errors only (broken invariants). User input gets a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AX_CHECK(cond)                                                             \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "AX_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#define AX_CHECK_MSG(cond, msg)                                                    \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "AX_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, (msg));                                                  \
      std::abort();                                                                \
    }                                                                              \
  } while (0)
