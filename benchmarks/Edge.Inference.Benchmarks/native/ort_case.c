/* Runs one ONNX model through ONNX Runtime's C API alone, with no .NET in the process, to tell a
 * runtime disagreement from a binding bug. Inputs come as raw little-endian files written by
 * prove-runtime-differences.py; every output is written raw to OUT_DIR/output_K.bin, with its type
 * and shape printed on stdout.
 *
 * usage: ort_case LIBONNXRUNTIME MODEL OUT_DIR [NAME TYPE RANK DIM... FILE | NAME seq COUNT (TYPE RANK DIM... FILE)*COUNT]...
 * A "seq" input is a sequence of COUNT tensors, made with CreateValue (slot 82).
 *
 * Only the OrtApi slots called here are declared, by index (zero-based, see onnxruntime_c_api.h). */
#include <dlfcn.h>
#include <string.h>

#include "ort_min.h"

static size_t element_size(int type) {
  switch (type) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
  }
}

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END); *size = (size_t)ftell(f); fseek(f, 0, SEEK_SET);
  char *data = malloc(*size + 1);
  if (fread(data, 1, *size, f) != *size) { perror(path); exit(2); }
  fclose(f);
  return data;
}

/* TYPE RANK DIM... FILE at argv[*a], advancing *a past them. */
static void *read_tensor(char **argv, int *a, void *memory, void *allocator) {
  void *value;
  int type = atoi(argv[(*a)++]), rank = atoi(argv[(*a)++]);
  int64_t dims[16]; size_t elements = 1;
  for (int d = 0; d < rank; d++) { dims[d] = atoll(argv[(*a)++]); elements *= (size_t)dims[d]; }
  size_t size; char *data = read_file(argv[(*a)++], &size);
  if (type == 8) { /* strings: NUL-separated */
    const char **strings = malloc(sizeof(char *) * (elements + 1)); char *p = data;
    for (size_t i = 0; i < elements; i++) { strings[i] = p; p += strlen(p) + 1; }
    check(FN(48, Status, void *, const int64_t *, size_t, int, void **)(allocator, dims, (size_t)rank, type, &value), "CreateTensorAsOrtValue");
    check(FN(52, Status, void *, const char *const *, size_t)(value, strings, elements), "FillStringTensor");
  } else {
    check(FN(49, Status, void *, void *, size_t, const int64_t *, size_t, int, void **)(memory, data, size, dims, (size_t)rank, type, &value), "CreateTensorWithDataAsOrtValue");
  }
  return value;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: ort_case LIB MODEL OUT_DIR [NAME TYPE RANK DIM... FILE]...\n"); return 2; }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
  ApiBase *(*get_base)(void) = (ApiBase *(*)(void))dlsym(lib, "OrtGetApiBase");
  api = (void **)get_base()->GetApi(17);

  void *env, *options, *session, *memory, *allocator;
  check(FN(3, Status, int, const char *, void **)(3, "ort_case", &env), "CreateEnv");
  check(FN(10, Status, void **)(&options), "CreateSessionOptions");
  check(FN(24, Status, void *, int)(options, 1), "SetIntraOpNumThreads");
  check(FN(7, Status, void *, const char *, void *, void **)(env, argv[2], options, &session), "CreateSession");
  check(FN(69, Status, int, int, void **)(1, 0, &memory), "CreateCpuMemoryInfo");
  check(FN(78, Status, void **)(&allocator), "GetAllocatorWithDefaultOptions");

  const char *names[64]; void *values[64]; size_t count = 0;
  for (int a = 4; a < argc; count++) {
    names[count] = argv[a++];
    if (strcmp(argv[a], "seq") == 0) {
      int n = atoi(argv[a + 1]); a += 2;
      void *elements[64];
      for (int e = 0; e < n; e++) elements[e] = read_tensor(argv, &a, memory, allocator);
      check(FN(82, Status, void *const *, size_t, int, void **)(elements, (size_t)n, 2 /* ONNX_TYPE_SEQUENCE */, &values[count]), "CreateValue");
    } else {
      values[count] = read_tensor(argv, &a, memory, allocator);
    }
  }

  size_t output_count; char *output_names[64]; void *outputs[64] = {0};
  check(FN(31, Status, void *, size_t *)(session, &output_count), "SessionGetOutputCount");
  for (size_t i = 0; i < output_count; i++)
    check(FN(37, Status, void *, size_t, void *, char **)(session, i, allocator, &output_names[i]), "SessionGetOutputName");
  check(FN(9, Status, void *, void *, const char *const *, void *const *, size_t, const char *const *, size_t, void **)(
            session, NULL, names, values, count, (const char *const *)output_names, output_count, outputs), "Run");

  for (size_t k = 0; k < output_count; k++) {
    void *info; int type; size_t rank, elements; int64_t dims[16];
    check(FN(65, Status, void *, void **)(outputs[k], &info), "GetTensorTypeAndShape");
    check(FN(60, Status, void *, int *)(info, &type), "GetTensorElementType");
    check(FN(61, Status, void *, size_t *)(info, &rank), "GetDimensionsCount");
    check(FN(62, Status, void *, int64_t *, size_t)(info, dims, rank), "GetDimensions");
    check(FN(64, Status, void *, size_t *)(info, &elements), "GetTensorShapeElementCount");
    char path[4096]; snprintf(path, sizeof path, "%s/output_%zu.bin", argv[3], k);
    FILE *f = fopen(path, "wb");
    if (type == 8) {
      size_t length; check(FN(53, Status, void *, size_t *)(outputs[k], &length), "GetStringTensorDataLength");
      char *text = malloc(length + 1); size_t *offsets = malloc(sizeof(size_t) * (elements + 1));
      check(FN(54, Status, void *, void *, size_t, size_t *, size_t)(outputs[k], text, length, offsets, elements), "GetStringTensorContent");
      for (size_t i = 0; i < elements; i++) {
        size_t end = i + 1 < elements ? offsets[i + 1] : length;
        fwrite(text + offsets[i], 1, end - offsets[i], f); fputc(0, f);
      }
    } else {
      void *data; check(FN(51, Status, void *, void **)(outputs[k], &data), "GetTensorMutableData");
      fwrite(data, element_size(type), elements, f);
    }
    fclose(f);
    printf("%s type=%d shape=[", output_names[k], type);
    for (size_t d = 0; d < rank; d++) printf(d ? ",%lld" : "%lld", (long long)dims[d]);
    printf("]\n");
  }
  return 0;
}
