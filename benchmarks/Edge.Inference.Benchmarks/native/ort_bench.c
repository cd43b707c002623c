/* The reference for the overhead benchmark: the same model, inputs, preallocated outputs and thread
 * settings as the .NET harness, driven through ONNX Runtime's C API with nothing in between.
 *
 * usage: ort_bench LIBONNXRUNTIME MODEL ITERATIONS INTRA_OP_THREADS MODE
 * MODE "run": OrtApi::Run with the output values passed in; "binding": every input and output bound
 * once to an OrtIoBinding, then RunWithBinding, which is what OnnxModel.Run(OrtIoBinding) and
 * OnnxModel.Run(Frame) call. Both pass a run-options object made once, as the .NET side does.
 * prints: ns_per_run=<mean over ITERATIONS after a warm-up> min_batch_ns=<fastest of 10 batches' means>
 *         cpu_ns_per_run=<calling thread's CPU time per run> min_batch_cpu_ns=<least of 10 batches'>
 *         process_cpu_ns_per_run=<the whole process's CPU time per run, over the same batches>
 * Thread CPU time is what a run costs this thread whatever else the machine is doing; the process
 * figure shows whether ORT did work on other threads (with one intra-op and one inter-op thread it
 * should equal the thread figure, which is what makes the thread figure the whole cost of a run).
 *
 * Only the OrtApi slots called here are declared, by zero-based index into struct OrtApi
 * (onnxruntime_c_api.h; the same order as the managed package's OrtApi struct, which is how the
 * IoBinding slots 133-137 were checked); every input and output must be a float tensor of fixed shape. */
#include <string.h>
#include <dlfcn.h>
#include <time.h>

#include "ort_min.h"

/* Makes a float tensor over fresh memory of the shape the session declares for input/output i. */
static void *tensor_for(void *session, size_t i, int input, void *memory) {
  void *type_info, *info; size_t rank, count = 1; int64_t dims[8];
  check(FN(input ? 33 : 34, Status, void *, size_t, void **)(session, i, &type_info), "Session*TypeInfo");
  check(FN(55, Status, void *, void **)(type_info, &info), "CastTypeInfoToTensorInfo");
  check(FN(61, Status, void *, size_t *)(info, &rank), "GetDimensionsCount");
  check(FN(62, Status, void *, int64_t *, size_t)(info, dims, rank), "GetDimensions");
  for (size_t d = 0; d < rank; d++) count *= (size_t)dims[d];
  float *data = malloc(count * sizeof(float));
  for (size_t k = 0; k < count; k++) data[k] = (float)(k % 255) / 255.0f;
  void *value;
  check(FN(49, Status, void *, void *, size_t, const int64_t *, size_t, int, void **)(memory, data, count * sizeof(float), dims, rank, 1, &value), "CreateTensorWithDataAsOrtValue");
  FN(98, void, void *)(type_info);
  return value;
}

static double clock_ns(clockid_t clock) {
  struct timespec t; clock_gettime(clock, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}
static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static double thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
static double process_cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

int main(int argc, char **argv) {
  if (argc != 6 || (strcmp(argv[5], "run") && strcmp(argv[5], "binding"))) {
    fprintf(stderr, "usage: ort_bench LIB MODEL ITERATIONS INTRA_OP_THREADS run|binding\n"); return 2;
  }
  int bound = strcmp(argv[5], "binding") == 0;
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
  ApiBase *(*get_base)(void) = (ApiBase *(*)(void))dlsym(lib, "OrtGetApiBase");
  api = (void **)get_base()->GetApi(17);
  long iterations = atol(argv[3]);

  void *env, *options, *session, *memory, *allocator;
  check(FN(3, Status, int, const char *, void **)(3, "ort_bench", &env), "CreateEnv");
  check(FN(10, Status, void **)(&options), "CreateSessionOptions");
  check(FN(24, Status, void *, int)(options, atoi(argv[4])), "SetIntraOpNumThreads");
  check(FN(25, Status, void *, int)(options, 1), "SetInterOpNumThreads");
  /* OnnxModelOptions.AllowSpinning defaults to true and OnnxModel always writes both entries. */
  check(FN(130, Status, void *, const char *, const char *)(options, "session.intra_op.allow_spinning", "1"), "AddSessionConfigEntry");
  check(FN(130, Status, void *, const char *, const char *)(options, "session.inter_op.allow_spinning", "1"), "AddSessionConfigEntry");
  check(FN(7, Status, void *, const char *, void *, void **)(env, argv[2], options, &session), "CreateSession");
  check(FN(69, Status, int, int, void **)(1, 0, &memory), "CreateCpuMemoryInfo");
  check(FN(78, Status, void **)(&allocator), "GetAllocatorWithDefaultOptions");

  size_t input_count, output_count; char *input_names[8], *output_names[8]; void *inputs[8], *outputs[8];
  check(FN(30, Status, void *, size_t *)(session, &input_count), "SessionGetInputCount");
  check(FN(31, Status, void *, size_t *)(session, &output_count), "SessionGetOutputCount");
  for (size_t i = 0; i < input_count; i++) {
    check(FN(36, Status, void *, size_t, void *, char **)(session, i, allocator, &input_names[i]), "SessionGetInputName");
    inputs[i] = tensor_for(session, i, 1, memory);
  }
  for (size_t i = 0; i < output_count; i++) {
    check(FN(37, Status, void *, size_t, void *, char **)(session, i, allocator, &output_names[i]), "SessionGetOutputName");
    outputs[i] = tensor_for(session, i, 0, memory);
  }

  void *run_options, *binding = NULL;
  check(FN(39, Status, void **)(&run_options), "CreateRunOptions");
  if (bound) {
    check(FN(134, Status, void *, void **)(session, &binding), "CreateIoBinding");
    for (size_t i = 0; i < input_count; i++) check(FN(136, Status, void *, const char *, void *)(binding, input_names[i], inputs[i]), "BindInput");
    for (size_t i = 0; i < output_count; i++) check(FN(137, Status, void *, const char *, void *)(binding, output_names[i], outputs[i]), "BindOutput");
  }
  Status (*run)(void *, void *, char **, void **, size_t, char **, size_t, void **) = api[9];
  Status (*run_bound)(void *, void *, void *) = api[133];
#define RUN_ONCE() check(bound ? run_bound(session, run_options, binding) \
                           : run(session, run_options, input_names, inputs, input_count, output_names, output_count, outputs), "Run")
  long warmup = iterations / 10 + 1;
  for (long k = 0; k < warmup; k++) RUN_ONCE();
  /* Ten batches: the mean of all, and the fastest batch's mean, which other load on the machine disturbs least. */
  long batch = iterations / 10 > 0 ? iterations / 10 : 1;
  /* The process window encloses the thread window, so process >= thread means no other thread worked. */
  double process_start = process_cpu_ns(), start = now_ns(), cpu_start = thread_cpu_ns(), best = 1e300, best_cpu = 1e300;
  for (int b = 0; b < 10; b++) {
    double batch_start = now_ns(), batch_cpu_start = thread_cpu_ns();
    for (long k = 0; k < batch; k++) RUN_ONCE();
    double cpu_mean = (thread_cpu_ns() - batch_cpu_start) / (double)batch;
    double mean = (now_ns() - batch_start) / (double)batch;
    if (mean < best) best = mean;
    if (cpu_mean < best_cpu) best_cpu = cpu_mean;
  }
  double runs = (double)(batch * 10);
  double cpu = thread_cpu_ns() - cpu_start, wall = now_ns() - start;
  double process = process_cpu_ns() - process_start;
  printf("ns_per_run=%.1f min_batch_ns=%.1f cpu_ns_per_run=%.1f min_batch_cpu_ns=%.1f process_cpu_ns_per_run=%.1f\n",
         wall / runs, best, cpu / runs, best_cpu, process / runs);
  return 0;
}
