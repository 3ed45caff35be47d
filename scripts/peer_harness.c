/*
 * Native timing of peer engines for scripts/bench_peers.py: no Python in the timed loop.
 *
 *   peer_harness ENGINE LIBRARY MODEL ROWS.f32 FEATURES BATCHES
 *
 * ENGINE is xgboost (libxgboost.so, XGBoosterPredictFromDense), lightgbm (lib_lightgbm.so,
 * LGBM_BoosterPredictForMat; the single-row fast API at batch 1), tl2cgen (a library from
 * tl2cgen.export_lib: predict() per row) or lleaves (its compiled forest_root() linked into
 * a shared library; it takes float64 rows, converted once before timing). The engines'
 * functions are declared here from their public C APIs and looked up with dlsym.
 * Methodology as `streamscore bench model`: batches taken in turn from the row pool, calls
 * repeated until a run lasts 20 ms, median of 9 runs. Prints one JSON object per batch.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*score_fn)(void *ctx, const float *rows, int n, float *out);

static const float *pool;
static long pool_rows;
static int width;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *need(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (!f) { fprintf(stderr, "peer_harness: %s: %s\n", name, dlerror()); exit(2); }
    return f;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_seconds(score_fn f, void *ctx, int batch, float *out) {
    long windows = pool_rows / batch > 0 ? pool_rows / batch : 1;
    long calls = 1;
    for (;;) {
        double t = now();
        for (long i = 0; i < calls; i++) f(ctx, pool + (i % windows) * batch * width, batch, out);
        if (now() - t >= 0.02) break;
        calls *= 2;
    }
    double runs[9];
    for (int r = 0; r < 9; r++) {
        double t = now();
        for (long i = 0; i < calls; i++) f(ctx, pool + (i % windows) * batch * width, batch, out);
        runs[r] = (now() - t) / calls;
    }
    qsort(runs, 9, sizeof runs[0], compare);
    return runs[4];
}

/* XGBoost C API */
typedef struct {
    void *booster;
    int (*predict)(void *, const char *, const char *, void *, const uint64_t **, uint64_t *, const float **);
} xgb_ctx;

static void xgb_score(void *p, const float *rows, int n, float *out) {
    xgb_ctx *c = p;
    char array[256];
    snprintf(array, sizeof array,
             "{\"data\": [%lu, true], \"shape\": [%d, %d], \"typestr\": \"<f4\", \"version\": 3}",
             (unsigned long)(uintptr_t)rows, n, width);
    static const char *config =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
    const uint64_t *shape; uint64_t dim; const float *result;
    if (c->predict(c->booster, array, config, NULL, &shape, &dim, &result) != 0) {
        fprintf(stderr, "peer_harness: XGBoosterPredictFromDense failed\n"); exit(1);
    }
    memcpy(out, result, n * sizeof(float));
}

/* LightGBM C API */
typedef struct {
    void *booster, *fast;
    int (*predict_mat)(void *, const void *, int, int32_t, int32_t, int, int, int, int, const char *, int64_t *, double *);
    int (*predict_fast)(void *, const void *, int64_t *, double *);
    double *scratch;
} lgb_ctx;

static void lgb_score(void *p, const float *rows, int n, float *out) {
    lgb_ctx *c = p;
    int64_t len;
    int rc = n == 1 ? c->predict_fast(c->fast, rows, &len, c->scratch)
                    : c->predict_mat(c->booster, rows, 0 /* float32 */, n, width, 1, 0 /* normal */, 0, -1,
                                     "num_threads=1", &len, c->scratch);
    if (rc != 0) { fprintf(stderr, "peer_harness: LightGBM predict failed\n"); exit(1); }
    for (int i = 0; i < n; i++) out[i] = (float)c->scratch[i];
}

/* tl2cgen: predict(union Entry *row, int pred_margin, float *result), one row per call */
union entry { int missing; float fvalue; int qvalue; };
typedef struct { void (*predict)(union entry *, int, float *); union entry *entries; } tl2_ctx;

static void tl2_score(void *p, const float *rows, int n, float *out) {
    tl2_ctx *c = p;
    union entry *e = c->entries + (rows - pool);
    for (int i = 0; i < n; i++) c->predict(e + (long)i * width, 0, out + i);
}

/* lleaves: forest_root(double *data, double *out, int start, int end) */
typedef struct { void (*forest)(double *, double *, int, int); double *rows; double *scratch; } ll_ctx;

static void ll_score(void *p, const float *rows, int n, float *out) {
    ll_ctx *c = p;
    c->forest(c->rows + (rows - pool), c->scratch, 0, n);
    for (int i = 0; i < n; i++) out[i] = (float)c->scratch[i];
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: peer_harness ENGINE LIBRARY MODEL ROWS.f32 FEATURES BATCHES\n");
        return 2;
    }
    const char *engine = argv[1], *library = argv[2], *model = argv[3];
    width = atoi(argv[5]);
    FILE *f = fopen(argv[4], "rb");
    if (!f) { perror(argv[4]); return 2; }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *rows = malloc(bytes);
    if (fread(rows, 1, bytes, f) != (size_t)bytes) { perror("read"); return 2; }
    fclose(f);
    pool = rows;
    pool_rows = bytes / sizeof(float) / width;

    void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "peer_harness: %s\n", dlerror()); return 2; }
    score_fn score;
    void *ctx;
    int max_batch = 1;
    for (char *s = argv[6]; *s;) { int b = (int)strtol(s, &s, 10); if (b > max_batch) max_batch = b; if (*s) s++; }

    if (strcmp(engine, "xgboost") == 0) {
        static xgb_ctx c;
        int (*create)(const void **, uint64_t, void **) = need(lib, "XGBoosterCreate");
        int (*load)(void *, const char *) = need(lib, "XGBoosterLoadModel");
        int (*set)(void *, const char *, const char *) = need(lib, "XGBoosterSetParam");
        c.predict = need(lib, "XGBoosterPredictFromDense");
        if (create(NULL, 0, &c.booster) || load(c.booster, model) || set(c.booster, "nthread", "1")) {
            fprintf(stderr, "peer_harness: cannot load %s with XGBoost\n", model); return 1;
        }
        score = xgb_score; ctx = &c;
    } else if (strcmp(engine, "lightgbm") == 0) {
        static lgb_ctx c;
        int (*create)(const char *, int *, void **) = need(lib, "LGBM_BoosterCreateFromModelfile");
        int (*fast_init)(void *, int, int, int, int, int32_t, const char *, void **) =
            need(lib, "LGBM_BoosterPredictForMatSingleRowFastInit");
        c.predict_mat = need(lib, "LGBM_BoosterPredictForMat");
        c.predict_fast = need(lib, "LGBM_BoosterPredictForMatSingleRowFast");
        int iterations;
        if (create(model, &iterations, &c.booster) ||
            fast_init(c.booster, 0, 0, -1, 0, width, "num_threads=1", &c.fast)) {
            fprintf(stderr, "peer_harness: cannot load %s with LightGBM\n", model); return 1;
        }
        c.scratch = malloc(sizeof(double) * max_batch);
        score = lgb_score; ctx = &c;
    } else if (strcmp(engine, "tl2cgen") == 0) {
        static tl2_ctx c;
        c.predict = need(lib, "predict");
        c.entries = malloc(sizeof(union entry) * pool_rows * width);
        for (long i = 0; i < pool_rows * width; i++) {
            if (isnan(rows[i])) c.entries[i].missing = -1; else c.entries[i].fvalue = rows[i];
        }
        score = tl2_score; ctx = &c;
    } else if (strcmp(engine, "lleaves") == 0) {
        static ll_ctx c;
        c.forest = need(lib, "forest_root");
        c.rows = malloc(sizeof(double) * pool_rows * width);
        for (long i = 0; i < pool_rows * width; i++) c.rows[i] = rows[i];
        c.scratch = malloc(sizeof(double) * max_batch);
        score = ll_score; ctx = &c;
    } else {
        fprintf(stderr, "peer_harness: unknown engine %s\n", engine);
        return 2;
    }

    float *out = malloc(sizeof(float) * max_batch);
    for (char *s = argv[6]; *s;) {
        int batch = (int)strtol(s, &s, 10);
        if (*s) s++;
        double seconds = median_seconds(score, ctx, batch, out);
        printf("{\"engine\": \"%s\", \"batch\": %d, \"us_per_call\": %.4f, \"rows_per_s\": %.1f}\n",
               engine, batch, seconds * 1e6, batch / seconds);
        fflush(stdout);
    }
    return 0;
}
