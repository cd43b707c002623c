/* The little of ONNX Runtime's C API that ort_bench.c and ort_case.c need, declared by hand: the
 * OrtApiBase struct, and a macro that calls OrtApi member SLOT (its zero-based index in struct OrtApi,
 * onnxruntime_c_api.h) with the given signature. Not the official header. */
#ifndef ORT_MIN_H
#define ORT_MIN_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *Status;
typedef struct { void *(*GetApi)(uint32_t); const char *(*GetVersionString)(void); } ApiBase;
static void **api;
#define FN(slot, ret, ...) ((ret(*)(__VA_ARGS__))api[slot])

static void check(Status s, const char *what) {
  if (s) { fprintf(stderr, "%s: %s\n", what, FN(2, const char *, Status)(s)); exit(2); }
}
#endif
