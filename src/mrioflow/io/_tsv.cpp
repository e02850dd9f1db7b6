// Multi-threaded parser for the delimited number matrices of Eora26, EXIOBASE 3 and GLORIA.
//
// One function, parse(data, out, rowmap, colmap, ncols, trailing, nthreads[, skip[, sep]]) -> bool:
// reads `data` (bytes-like: lines of `skip` label fields, which are passed over, then
// `ncols` numbers separated by `sep` (default tab), optionally ending in one empty
// field when `trailing`; "\n" or "\r\n" line ends; empty lines skipped) and writes
// file cell (i, j) to out[rowmap[i], colmap[j]] (a map entry of -1 drops that row or
// column). Numbers are converted with std::from_chars (correctly rounded, as
// pyarrow's converter is). Label fields must not hold the separator (no quoting).
//
// It is a fast path only: it returns False, with `out` partly written, on anything
// it does not accept (a wrong count of rows or fields, a cell that is not a finite
// number in plain decimal or exponent notation). The caller then parses the same
// bytes with pyarrow, which either accepts them or finds and reports the bad cell.
//
// The text is cut into one block per thread at line ends; each thread counts its
// non-empty lines, then (knowing its first row) converts them, without the GIL.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

namespace {

struct Block {
    const char* begin;
    const char* end;
    Py_ssize_t first_row = 0;
    Py_ssize_t rows = 0;
    bool ok = true;
};

// End of the line starting at p (the '\n', or `end`); `stop` excludes a '\r' before it.
inline const char* line_end(const char* p, const char* end, const char** stop) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const char* e = nl ? static_cast<const char*>(nl) : end;
    *stop = (e > p && e[-1] == '\r') ? e - 1 : e;
    return e;
}

void count_rows(Block* b) {
    const char* p = b->begin;
    while (p < b->end) {
        const char* stop;
        const char* e = line_end(p, b->end, &stop);
        if (stop > p) ++b->rows;
        p = e < b->end ? e + 1 : b->end;
    }
}

struct Target {
    double* out;
    Py_ssize_t out_cols;
    const int64_t* rowmap;
    const int64_t* colmap;
    Py_ssize_t ncols;
    bool trailing;
    Py_ssize_t skip;
    char sep;
};

// Parse one line [p, stop) as file row `row`; false if it is not exactly ncols numbers.
inline bool parse_line(const char* p, const char* stop, int64_t out_row, const Target& t) {
    double* dst = out_row >= 0 ? t.out + out_row * t.out_cols : nullptr;
    for (Py_ssize_t s = 0; s < t.skip; ++s) {  // the label fields
        const void* q = std::memchr(p, t.sep, static_cast<size_t>(stop - p));
        if (!q) return false;
        p = static_cast<const char*>(q) + 1;
    }
    for (Py_ssize_t j = 0; j < t.ncols; ++j) {
        double v;
        auto res = std::from_chars(p, stop, v);
        if (res.ec != std::errc() || !std::isfinite(v)) return false;
        const char* q = res.ptr;
        if (dst) {
            const int64_t c = t.colmap[j];
            if (c >= 0) dst[c] = v;
        }
        if (j + 1 < t.ncols) {
            if (q == stop || *q != t.sep) return false;  // too few fields, or junk after the number
            p = q + 1;
        } else if (t.trailing) {
            return q + 1 == stop && *q == t.sep;  // one empty field after the last number
        } else {
            return q == stop;
        }
    }
    return t.ncols == 0 && p == stop;
}

void parse_block(Block* b, const Target* t) {
    const char* p = b->begin;
    Py_ssize_t row = b->first_row;
    while (p < b->end) {
        const char* stop;
        const char* e = line_end(p, b->end, &stop);
        if (stop > p) {
            if (!parse_line(p, stop, t->rowmap[row], *t)) {
                b->ok = false;
                return;
            }
            ++row;
        }
        p = e < b->end ? e + 1 : b->end;
    }
}

template <class F>
void run_blocks(std::vector<Block>& blocks, F fn) {
    std::vector<std::thread> threads;
    threads.reserve(blocks.size());
    for (size_t k = 1; k < blocks.size(); ++k) threads.emplace_back(fn, &blocks[k]);
    fn(&blocks[0]);
    for (auto& th : threads) th.join();
}

struct Buffers {
    Py_buffer data{}, out{}, rowmap{}, colmap{};
    ~Buffers() {
        for (Py_buffer* b : {&data, &out, &rowmap, &colmap})
            if (b->obj) PyBuffer_Release(b);
    }
};

bool int64_vector(PyObject* obj, Py_buffer* view, const char* name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return false;
    if (view->itemsize != 8 || !view->format || (std::strcmp(view->format, "q") && std::strcmp(view->format, "l"))) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous int64 array", name);
        return false;
    }
    return true;
}

bool in_range(const Py_buffer& map, Py_ssize_t limit, const char* name) {
    const int64_t* m = static_cast<const int64_t*>(map.buf);
    for (Py_ssize_t i = 0; i < map.len / 8; ++i) {
        if (m[i] < -1 || m[i] >= limit) {
            PyErr_Format(PyExc_ValueError, "%s[%zd] = %lld is out of range", name, i, static_cast<long long>(m[i]));
            return false;
        }
    }
    return true;
}

PyObject* parse(PyObject*, PyObject* args) {
    PyObject *data_obj, *out_obj, *rowmap_obj, *colmap_obj;
    Py_ssize_t ncols, nthreads, skip = 0;
    int trailing;
    int sep = '\t';
    if (!PyArg_ParseTuple(args, "OOOOnpn|nC", &data_obj, &out_obj, &rowmap_obj, &colmap_obj, &ncols, &trailing,
                          &nthreads, &skip, &sep))
        return nullptr;
    if (skip < 0 || sep <= 0 || sep > 127 || sep == '\n' || sep == '\r') {
        PyErr_SetString(PyExc_ValueError, "skip must be >= 0 and sep one ASCII character other than a line end");
        return nullptr;
    }
    Buffers buf;
    if (PyObject_GetBuffer(data_obj, &buf.data, PyBUF_SIMPLE) < 0) return nullptr;
    if (PyObject_GetBuffer(out_obj, &buf.out, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return nullptr;
    if (buf.out.ndim != 2 || buf.out.itemsize != 8 || !buf.out.format || std::strcmp(buf.out.format, "d")) {
        PyErr_SetString(PyExc_TypeError, "out must be a C-contiguous 2-d float64 array");
        return nullptr;
    }
    if (!int64_vector(rowmap_obj, &buf.rowmap, "rowmap") || !int64_vector(colmap_obj, &buf.colmap, "colmap"))
        return nullptr;
    const Py_ssize_t nrows = buf.rowmap.len / 8;
    if (buf.colmap.len / 8 != ncols) {
        PyErr_SetString(PyExc_ValueError, "colmap must have ncols entries");
        return nullptr;
    }
    if (!in_range(buf.rowmap, buf.out.shape[0], "rowmap") || !in_range(buf.colmap, buf.out.shape[1], "colmap"))
        return nullptr;

    const char* text = static_cast<const char*>(buf.data.buf);
    const char* end = text + buf.data.len;
    Target t{static_cast<double*>(buf.out.buf), buf.out.shape[1], static_cast<const int64_t*>(buf.rowmap.buf),
             static_cast<const int64_t*>(buf.colmap.buf), ncols, trailing != 0, skip, static_cast<char>(sep)};
    bool ok = true;
    Py_BEGIN_ALLOW_THREADS
    // One block per thread, cut just after a line end.
    const Py_ssize_t k = std::max<Py_ssize_t>(1, std::min<Py_ssize_t>(nthreads, buf.data.len / (1 << 20) + 1));
    std::vector<Block> blocks(static_cast<size_t>(k));
    const char* p = text;
    for (Py_ssize_t i = 0; i < k; ++i) {
        const char* q = i + 1 == k ? end : text + buf.data.len / k * (i + 1);
        if (q < p) q = p;
        if (q < end) {
            const void* nl = std::memchr(q, '\n', static_cast<size_t>(end - q));
            q = nl ? static_cast<const char*>(nl) + 1 : end;
        }
        blocks[i].begin = p;
        blocks[i].end = q;
        p = q;
    }
    run_blocks(blocks, count_rows);
    Py_ssize_t total = 0;
    for (auto& b : blocks) {
        b.first_row = total;
        total += b.rows;
    }
    ok = total == nrows;
    if (ok) {
        run_blocks(blocks, [&t](Block* b) { parse_block(b, &t); });
        for (auto& b : blocks) ok = ok && b.ok;
    }
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ok);
}

PyMethodDef methods[] = {
    {"parse", parse, METH_VARARGS,
     "parse(data, out, rowmap, colmap, ncols, trailing, nthreads, skip=0, sep='\\t') -> bool\n\n"
     "Parse delimited numbers, after `skip` label fields per line, into out[rowmap[i], colmap[j]];\n"
     "False if the text is not exactly len(rowmap) non-empty lines of skip labels and ncols finite\n"
     "numbers (out is then partly written)."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tsv", "Fast delimited number parser (see _tsv.cpp).", -1,
                      methods};

}  // namespace

PyMODINIT_FUNC PyInit__tsv() { return PyModule_Create(&module); }
