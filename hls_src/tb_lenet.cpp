// C-simulation testbench of the LeNet IP (Vitis HLS csim/cosim, or g++).
//
// Usage: tb_lenet VECTORS_DIR
// Reads the test vectors of contract section 7 (`lenet export`), runs the
// LOAD_WEIGHTS and INFER jobs through lenet() and compares every output word,
// TLAST flag and status output with the expected files; then runs every
// malformed job of contract section 6, each followed by a job that must
// work, and a weight reload with changed biases. Exits 0 only if all checks
// pass.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lenet.h"
#include "lenet_contract.h"

namespace {

typedef std::vector<uint32_t> words_t;

int failures = 0;
int jobs_run = 0;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                           \
            std::printf(__VA_ARGS__);                                                                                  \
            std::printf("\n");                                                                                         \
        }                                                                                                              \
    } while (0)

words_t read_words(const std::string &path) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {
        std::fprintf(stderr, "tb_lenet: cannot open %s; make the vectors with `lenet export --out DIR`\n",
                     path.c_str());
        std::exit(2);
    }
    words_t words;
    unsigned char b[4];
    while (std::fread(b, 1, 4, f) == 4)
        words.push_back(uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24);
    std::fclose(f);
    return words;
}

uint32_t trailer(uint32_t error, uint32_t done) {
    return LENET_TRAILER_MARK << LENET_TRAILER_MARK_SHIFT | error << LENET_TRAILER_ERROR_SHIFT |
           (done & LENET_TRAILER_COUNT_MASK);
}

// A table-driven CRC-32, written independently of the IP's bitwise one.
uint32_t crc32(const words_t &words, size_t n) {
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ LENET_CRC32_POLY : c >> 1;
            table[i] = c;
        }
    uint32_t crc = LENET_CRC32_INIT;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            crc = table[(crc ^ (words[i] >> (8 * k))) & 0xFF] ^ (crc >> 8);
    return crc ^ LENET_CRC32_INIT;
}

struct Job {
    words_t out;
    std::vector<bool> last;
    uint32_t status, crc, done;
};

// One job. `tlast_at` lists the input words that carry TLAST (default: the
// last one). Checks what every job must do: consume its input exactly up to
// the first TLAST and end its output with one TLAST, on the trailer.
Job run(uint32_t command, uint32_t count, const words_t &in_words, std::vector<size_t> tlast_at = {}) {
    if (tlast_at.empty())
        tlast_at.push_back(in_words.size() - 1);
    hls::stream<lenet_beat_t> in("tb_in"), out("tb_out");
    size_t first_tlast = in_words.size();
    for (size_t i = 0; i < in_words.size(); i++) {
        lenet_beat_t beat;
        beat.data = in_words[i];
        beat.keep = -1;
        beat.strb = -1;
        beat.last = 0;
        for (size_t t : tlast_at)
            if (t == i)
                beat.last = 1;
        if (beat.last && i < first_tlast)
            first_tlast = i;
        in.write(beat);
    }
    ap_uint<32> status, crc, done;
    lenet(in, out, command, count, status, crc, done);
    jobs_run++;
    Job job;
    job.status = status.to_uint();
    job.crc = crc.to_uint();
    job.done = done.to_uint();
    while (!out.empty()) {
        const lenet_beat_t beat = out.read();
        job.out.push_back(beat.data.to_uint());
        job.last.push_back(beat.last == 1);
        CHECK(beat.keep == 0xF && beat.strb == 0xF, "job %d: TKEEP/TSTRB not all ones", jobs_run);
    }
    CHECK(in.size() == in_words.size() - first_tlast - 1, "job %d: %zu input words left, expected %zu", jobs_run,
          (size_t)in.size(), in_words.size() - first_tlast - 1);
    CHECK(!job.out.empty() && job.last.back(), "job %d: output does not end with TLAST", jobs_run);
    for (size_t i = 0; i + 1 < job.last.size(); i++)
        CHECK(!job.last[i], "job %d: TLAST on output word %zu of %zu", jobs_run, i, job.out.size());
    return job;
}

void expect_outcome(const Job &job, uint32_t error, uint32_t done, const char *what) {
    CHECK(job.status == error, "%s: STATUS %u, expected %u", what, job.status, error);
    CHECK(job.done == done, "%s: IMAGES_DONE %u, expected %u", what, job.done, done);
    CHECK(!job.out.empty() && job.out.back() == trailer(error, done), "%s: trailer %#x, expected %#x", what,
          job.out.empty() ? 0u : job.out.back(), trailer(error, done));
    CHECK(job.out.size() == size_t(LENET_RESULT_WORDS) * done + 1, "%s: %zu output words, expected %zu", what,
          job.out.size(), size_t(LENET_RESULT_WORDS) * done + 1);
}

// The result words of images [first, first + n) must match the golden ones.
void expect_results(const Job &job, const words_t &golden, size_t first, size_t n, const char *what) {
    size_t bad = 0;
    for (size_t i = 0; i < n * LENET_RESULT_WORDS && i < job.out.size(); i++)
        if (job.out[i] != golden[first * LENET_RESULT_WORDS + i] && bad++ < 5)
            CHECK(false, "%s: image %zu word %zu is %#x, expected %#x", what, first + i / LENET_RESULT_WORDS,
                  i % LENET_RESULT_WORDS, job.out[i], golden[first * LENET_RESULT_WORDS + i]);
    CHECK(bad == 0, "%s: %zu result words differ from the golden model", what, bad);
}

words_t slice(const words_t &w, size_t begin, size_t n) {
    return words_t(w.begin() + begin, w.begin() + begin + n);
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s VECTORS_DIR  (the output of `lenet export`)\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const words_t blob = read_words(dir + "/weights.bin");
    const words_t load_in = read_words(dir + "/load_in.bin");
    const words_t load_out = read_words(dir + "/load_out.bin");
    const words_t infer_in = read_words(dir + "/infer_in.bin");
    const words_t infer_out = read_words(dir + "/infer_out.bin");
    const size_t n_images = infer_in.size() / LENET_IMAGE_WORDS;
    const words_t golden(infer_out.begin(), infer_out.end() - 1); // without the trailer
    const uint32_t blob_crc = crc32(blob, LENET_CRC_WORD_INDEX);
    const size_t W = LENET_IMAGE_WORDS, R = LENET_RESULT_WORDS;
    if (blob.size() != LENET_BLOB_WORDS || n_images < 4 || infer_in.size() != n_images * W ||
        infer_out.size() != n_images * R + 1) {
        std::fprintf(stderr, "tb_lenet: %s: files of unexpected sizes (blob %zu words, %zu images); re-export\n",
                     dir.c_str(), blob.size(), n_images);
        return 2;
    }
    const words_t two_images = slice(infer_in, 0, 2 * W);
    const auto infer_two = [&](const char *what) {
        const Job job = run(LENET_CMD_INFER, 2, two_images);
        expect_outcome(job, LENET_ERR_OK, 2, what);
        expect_results(job, golden, 0, 2, what);
    };
    const auto expect_no_weights = [&](const char *what) {
        const Job job = run(LENET_CMD_INFER, 1, slice(infer_in, 0, W));
        expect_outcome(job, LENET_ERR_NO_WEIGHTS, 0, what);
        CHECK(job.crc == 0, "%s: WEIGHTS_CRC %#x while no weights are valid", what, job.crc);
    };
    const auto load = [&](const words_t &words, const char *what) {
        const Job job = run(LENET_CMD_LOAD_WEIGHTS, 0, words);
        expect_outcome(job, LENET_ERR_OK, 0, what);
        CHECK(job.crc == crc32(words, LENET_CRC_WORD_INDEX), "%s: WEIGHTS_CRC %#x", what, job.crc);
    };

    // 1. Power-on: no weights.
    expect_no_weights("INFER before any load");

    // 2. The exported jobs, compared word for word.
    const auto t0 = std::chrono::steady_clock::now();
    Job job = run(LENET_CMD_LOAD_WEIGHTS, 0, load_in);
    CHECK(job.out == load_out, "LOAD_WEIGHTS output differs from load_out.bin");
    expect_outcome(job, LENET_ERR_OK, 0, "LOAD_WEIGHTS");
    CHECK(job.crc == blob_crc && blob_crc == blob.back(), "WEIGHTS_CRC %#x, blob CRC %#x, CRC word %#x", job.crc,
          blob_crc, blob.back());
    const auto t1 = std::chrono::steady_clock::now();
    job = run(LENET_CMD_INFER, n_images, infer_in);
    const auto t2 = std::chrono::steady_clock::now();
    size_t mismatched = 0;
    for (size_t n = 0; n < n_images; n++)
        for (size_t k = 0; k < R; k++)
            if (job.out.size() != infer_out.size() || job.out[n * R + k] != infer_out[n * R + k]) {
                mismatched++;
                break;
            }
    CHECK(mismatched == 0, "INFER: %zu of %zu images differ from infer_out.bin", mismatched, n_images);
    CHECK(job.out == infer_out, "INFER output differs from infer_out.bin");
    expect_outcome(job, LENET_ERR_OK, n_images, "INFER");
    CHECK(job.crc == blob_crc, "INFER changed WEIGHTS_CRC");
    const double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    const double infer_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("tb_lenet: %zu images, %zu mismatches (class and logits vs the golden model), "
                "load %.1f ms, infer %.2f s (%.0f images/s)\n",
                n_images, mismatched, load_ms, infer_s, n_images / infer_s);

    // 3. Malformed INFER jobs (weights stay valid), each followed by a good job.
    const int jobs_before = jobs_run;
    job = run(0, 1, slice(infer_in, 0, W));
    expect_outcome(job, LENET_ERR_BAD_COMMAND, 0, "COMMAND 0");
    infer_two("INFER after BAD_COMMAND");
    job = run(3, 1, slice(infer_in, 0, 3));
    expect_outcome(job, LENET_ERR_BAD_COMMAND, 0, "COMMAND 3");
    job = run(LENET_CMD_INFER, 0, slice(infer_in, 0, W));
    expect_outcome(job, LENET_ERR_BAD_COUNT, 0, "COUNT 0");
    job = run(LENET_CMD_INFER, LENET_MAX_COUNT + 1, slice(infer_in, 0, W));
    expect_outcome(job, LENET_ERR_BAD_COUNT, 0, "COUNT 65536");
    infer_two("INFER after BAD_COUNT");

    job = run(LENET_CMD_INFER, 3, slice(infer_in, 0, 2 * W + W / 2)); // TLAST half-way through image 3
    expect_outcome(job, LENET_ERR_EARLY_TLAST, 2, "INFER with TLAST inside image 3 of 3");
    expect_results(job, golden, 0, 2, "INFER with early TLAST");
    job = run(LENET_CMD_INFER, 3, slice(infer_in, 0, W)); // TLAST at the end of image 1 of 3
    expect_outcome(job, LENET_ERR_EARLY_TLAST, 1, "INFER with TLAST after image 1 of 3");
    expect_results(job, golden, 0, 1, "INFER with TLAST after image 1");
    job = run(LENET_CMD_INFER, 4, slice(infer_in, 0, 5)); // TLAST inside the first image
    expect_outcome(job, LENET_ERR_EARLY_TLAST, 0, "INFER with TLAST inside image 1 of 4");
    infer_two("INFER after EARLY_TLAST");

    words_t late = slice(infer_in, 0, 2 * W + 3); // 2 images, 3 extra words, TLAST on the last extra one
    job = run(LENET_CMD_INFER, 2, late);
    expect_outcome(job, LENET_ERR_LATE_TLAST, 2, "INFER with TLAST after the last image");
    expect_results(job, golden, 0, 2, "INFER with late TLAST");
    infer_two("INFER after LATE_TLAST");

    // 4. Malformed LOAD_WEIGHTS jobs: each leaves no valid weights; a good load recovers.
    struct BadBlob {
        const char *what;
        size_t word;    // the word to change (or, if n_words < the blob, ignored)
        uint32_t value; // its new value
        size_t n_words; // words sent
        std::vector<size_t> tlast;
        uint32_t error;
    };
    const size_t B = LENET_BLOB_WORDS, crc_i = LENET_CRC_WORD_INDEX;
    const BadBlob bad_blobs[] = {
        {"bad magic", 0, 0x12345678u, B, {}, LENET_ERR_BAD_MAGIC},
        {"bad magic and TLAST on word 10", 0, 0u, 11, {}, LENET_ERR_BAD_MAGIC},
        {"bad magic with TLAST on it", 0, 0u, 1, {}, LENET_ERR_BAD_MAGIC},
        {"bad version", 1, 2u, B, {}, LENET_ERR_BAD_VERSION},
        {"bad length", 2, B - 1, B, {}, LENET_ERR_BAD_LENGTH},
        {"bad shift word", 3, blob[3] | 0x20u, B, {}, LENET_ERR_BAD_SHIFT},
        {"bad CRC word", crc_i, blob[crc_i] ^ 1u, B, {}, LENET_ERR_BAD_CRC},
        {"a payload bit flipped", 5000, blob[5000] ^ 0x80u, B, {}, LENET_ERR_BAD_CRC},
        {"bad CRC and no TLAST on it", crc_i, blob[crc_i] ^ 1u, B + 2, {B + 1}, LENET_ERR_BAD_CRC},
        {"TLAST on word 1000", 0, blob[0], 1001, {}, LENET_ERR_EARLY_TLAST},
        {"TLAST on the word before the CRC", 0, blob[0], B - 1, {}, LENET_ERR_EARLY_TLAST},
        {"TLAST one word late", 0, blob[0], B + 1, {}, LENET_ERR_LATE_TLAST},
        {"TLAST 100 words late", 0, blob[0], B + 100, {}, LENET_ERR_LATE_TLAST},
    };
    for (const BadBlob &bad : bad_blobs) {
        words_t words = blob;
        words.resize(bad.n_words, 0xDEADBEEFu);
        words[bad.word] = bad.value;
        job = run(LENET_CMD_LOAD_WEIGHTS, 0, words, bad.tlast);
        expect_outcome(job, bad.error, 0, bad.what);
        CHECK(job.crc == 0, "%s: WEIGHTS_CRC %#x after a failed load", bad.what, job.crc);
        expect_no_weights(bad.what);
        load(blob, "reload after a bad blob");
        infer_two("INFER after a failed load and a reload");
    }
    const int malformed_jobs = jobs_run - jobs_before;

    // 5. Reload with different biases: the logits move by exactly the change.
    words_t changed = blob;
    const int32_t delta[LENET_NUM_CLASSES] = {1000, -1000, 7, -7, 123456, -123456, 0, 1, -1, 2};
    for (int k = 0; k < int(LENET_NUM_CLASSES); k++)
        changed[LENET_FC3_B_OFFSET_WORDS + k] += uint32_t(delta[k]);
    changed[crc_i] = crc32(changed, crc_i);
    load(changed, "LOAD_WEIGHTS with changed fc3 biases");
    const size_t n_check = n_images < 50 ? n_images : 50;
    job = run(LENET_CMD_INFER, n_check, slice(infer_in, 0, n_check * W));
    expect_outcome(job, LENET_ERR_OK, n_check, "INFER with changed biases");
    for (size_t n = 0; n < n_check && job.out.size() == n_check * R + 1; n++) {
        int best = 0;
        for (int k = 0; k < int(LENET_NUM_CLASSES); k++) {
            const int32_t want = int32_t(golden[n * R + 1 + k] + uint32_t(delta[k]));
            CHECK(int32_t(job.out[n * R + 1 + k]) == want, "changed biases: image %zu logit %d", n, k);
            if (want > int32_t(golden[n * R + 1 + best] + uint32_t(delta[best])))
                best = k;
        }
        CHECK(job.out[n * R] == uint32_t(best), "changed biases: image %zu class %u, expected %d", n, job.out[n * R],
              best);
    }
    load(blob, "LOAD_WEIGHTS back to the exported blob");
    job = run(LENET_CMD_INFER, n_check, slice(infer_in, 0, n_check * W));
    expect_results(job, golden, 0, n_check, "INFER after reloading the exported blob");

    std::printf("tb_lenet: %d malformed jobs checked, each followed by a working job; weight reload checked\n",
                malformed_jobs);
    if (failures) {
        std::printf("tb_lenet: FAILED (%d checks)\n", failures);
        return 1;
    }
    std::printf("tb_lenet: PASS\n");
    return 0;
}
