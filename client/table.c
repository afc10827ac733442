/*
 * table.c: display width of UTF-8 text, and tables and field blocks that
 * line up by it. See table.h.
 *
 * The width ranges follow Unicode's EastAsianWidth.txt (W and F) and the
 * nonspacing/enclosing marks and format characters of UnicodeData.txt (the
 * set wcwidth() gives 0), trimmed to blocks a terminal user here meets.
 * glibc's wcwidth() is not used: it depends on the process locale, which a
 * CLI run from cron or a test harness often has as "C".
 */
#include "table.h"

#include "json.h"   /* json_out: the growable string */
#include "bb_utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct cp_range {
    unsigned lo, hi;
} cp_range;

/* Zero width: combining marks (Mn, Me), format characters (Cf), Hangul
 * medial vowels and final consonants (they join the syllable before). */
static const cp_range zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF},
    {0x05C1, 0x05C2}, {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0600, 0x0605},
    {0x0610, 0x061A}, {0x061C, 0x061C}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DD}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED},
    {0x070F, 0x070F}, {0x0711, 0x0711}, {0x0730, 0x074A}, {0x07A6, 0x07B0},
    {0x07EB, 0x07F3}, {0x0816, 0x0819}, {0x081B, 0x0823}, {0x0825, 0x0827},
    {0x0829, 0x082D}, {0x0859, 0x085B}, {0x08D3, 0x08E1}, {0x08E3, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D},
    {0x0951, 0x0957}, {0x0962, 0x0963}, {0x0981, 0x0981}, {0x09BC, 0x09BC},
    {0x09C1, 0x09C4}, {0x09CD, 0x09CD}, {0x09E2, 0x09E3}, {0x0A01, 0x0A02},
    {0x0A3C, 0x0A3C}, {0x0A41, 0x0A51}, {0x0A70, 0x0A71}, {0x0A75, 0x0A75},
    {0x0A81, 0x0A82}, {0x0ABC, 0x0ABC}, {0x0AC1, 0x0AC8}, {0x0ACD, 0x0ACD},
    {0x0AE2, 0x0AE3}, {0x0B01, 0x0B01}, {0x0B3C, 0x0B3C}, {0x0B3F, 0x0B3F},
    {0x0B41, 0x0B44}, {0x0B4D, 0x0B4D}, {0x0B56, 0x0B56}, {0x0B62, 0x0B63},
    {0x0B82, 0x0B82}, {0x0BC0, 0x0BC0}, {0x0BCD, 0x0BCD}, {0x0C00, 0x0C00},
    {0x0C3E, 0x0C40}, {0x0C46, 0x0C56}, {0x0C62, 0x0C63}, {0x0CBC, 0x0CBC},
    {0x0CCC, 0x0CCD}, {0x0CE2, 0x0CE3}, {0x0D00, 0x0D01}, {0x0D41, 0x0D44},
    {0x0D4D, 0x0D4D}, {0x0D62, 0x0D63}, {0x0DCA, 0x0DCA}, {0x0DD2, 0x0DD6},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x0EB1, 0x0EB1},
    {0x0EB4, 0x0EBC}, {0x0EC8, 0x0ECD}, {0x0F18, 0x0F19}, {0x0F35, 0x0F35},
    {0x0F37, 0x0F37}, {0x0F39, 0x0F39}, {0x0F71, 0x0F7E}, {0x0F80, 0x0F84},
    {0x0F86, 0x0F87}, {0x0F8D, 0x0FBC}, {0x0FC6, 0x0FC6}, {0x102D, 0x1030},
    {0x1032, 0x1037}, {0x1039, 0x103A}, {0x103D, 0x103E}, {0x1058, 0x1059},
    {0x105E, 0x1060}, {0x1071, 0x1074}, {0x1082, 0x1082}, {0x1085, 0x1086},
    {0x108D, 0x108D}, {0x109D, 0x109D}, {0x1160, 0x11FF}, {0x135D, 0x135F},
    {0x1712, 0x1714}, {0x1732, 0x1734}, {0x1752, 0x1753}, {0x1772, 0x1773},
    {0x17B4, 0x17B5}, {0x17B7, 0x17BD}, {0x17C6, 0x17C6}, {0x17C9, 0x17D3},
    {0x17DD, 0x17DD}, {0x180B, 0x180F}, {0x1885, 0x1886}, {0x18A9, 0x18A9},
    {0x1920, 0x1922}, {0x1927, 0x1928}, {0x1932, 0x1932}, {0x1939, 0x193B},
    {0x1A17, 0x1A18}, {0x1A1B, 0x1A1B}, {0x1A56, 0x1A56}, {0x1A58, 0x1A60},
    {0x1A62, 0x1A62}, {0x1A65, 0x1A6C}, {0x1A73, 0x1A7F}, {0x1AB0, 0x1AFF},
    {0x1B00, 0x1B03}, {0x1B34, 0x1B34}, {0x1B36, 0x1B3A}, {0x1B3C, 0x1B3C},
    {0x1B42, 0x1B42}, {0x1B6B, 0x1B73}, {0x1B80, 0x1B81}, {0x1BA2, 0x1BA5},
    {0x1BA8, 0x1BA9}, {0x1BAB, 0x1BAD}, {0x1BE6, 0x1BE6}, {0x1BE8, 0x1BE9},
    {0x1BED, 0x1BED}, {0x1BEF, 0x1BF1}, {0x1C2C, 0x1C33}, {0x1C36, 0x1C37},
    {0x1CD0, 0x1CD2}, {0x1CD4, 0x1CE0}, {0x1CE2, 0x1CE8}, {0x1CED, 0x1CED},
    {0x1CF4, 0x1CF4}, {0x1CF8, 0x1CF9}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x202A, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F}, {0x20D0, 0x20FF},
    {0x2CEF, 0x2CF1}, {0x2D7F, 0x2D7F}, {0x2DE0, 0x2DFF}, {0x302A, 0x302D},
    {0x3099, 0x309A}, {0xA66F, 0xA672}, {0xA674, 0xA67D}, {0xA69E, 0xA69F},
    {0xA6F0, 0xA6F1}, {0xA802, 0xA802}, {0xA806, 0xA806}, {0xA80B, 0xA80B},
    {0xA825, 0xA826}, {0xA8C4, 0xA8C5}, {0xA8E0, 0xA8F1}, {0xA8FF, 0xA8FF},
    {0xA926, 0xA92D}, {0xA947, 0xA951}, {0xA980, 0xA982}, {0xA9B3, 0xA9B3},
    {0xA9B6, 0xA9B9}, {0xA9BC, 0xA9BD}, {0xA9E5, 0xA9E5}, {0xAA29, 0xAA2E},
    {0xAA31, 0xAA32}, {0xAA35, 0xAA36}, {0xAA43, 0xAA43}, {0xAA4C, 0xAA4C},
    {0xAA7C, 0xAA7C}, {0xAAB0, 0xAAB0}, {0xAAB2, 0xAAB4}, {0xAAB7, 0xAAB8},
    {0xAABE, 0xAABF}, {0xAAC1, 0xAAC1}, {0xAAEC, 0xAAED}, {0xAAF6, 0xAAF6},
    {0xABE5, 0xABE5}, {0xABE8, 0xABE8}, {0xABED, 0xABED}, {0xD7B0, 0xD7FF},
    {0xFB1E, 0xFB1E}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB}, {0x101FD, 0x101FD}, {0x102E0, 0x102E0}, {0x10376, 0x1037A},
    {0x10A01, 0x10A0F}, {0x10A38, 0x10A3F}, {0x10AE5, 0x10AE6}, {0x10D24, 0x10D27},
    {0x10F46, 0x10F50}, {0x11001, 0x11001}, {0x11038, 0x11046}, {0x1107F, 0x11081},
    {0x110B3, 0x110B6}, {0x110B9, 0x110BA}, {0x110BD, 0x110BD}, {0x11100, 0x11102},
    {0x11127, 0x1112B}, {0x1112D, 0x11134}, {0x1D167, 0x1D169}, {0x1D173, 0x1D182},
    {0x1D185, 0x1D18B}, {0x1D1AA, 0x1D1AD}, {0x1D242, 0x1D244}, {0x1E000, 0x1E02A},
    {0x1E8D0, 0x1E8D6}, {0x1E944, 0x1E94A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    {0xE0100, 0xE01EF},
};

/* East Asian Wide (W) and Fullwidth (F): Hangul Jamo leads, emoji shown
 * as pictures, CJK radicals and symbols and punctuation (、。「」),
 * Hiragana, Katakana, Bopomofo, CJK Unified Ideographs and their
 * extensions, Yi, Hangul syllables, CJK compatibility ideographs,
 * vertical and small forms, fullwidth forms (ＡＢＣ，！), Tangut, Kana
 * supplements. */
static const cp_range wide[] = {
    {0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC},
    {0x23F0, 0x23F0}, {0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615},
    {0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
    {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE},
    {0x26D4, 0x26D4}, {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5},
    {0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B},
    {0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
    {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x2E80, 0x303E},
    {0x3040, 0x3247}, {0x3250, 0x4DBF}, {0x4E00, 0xA48C}, {0xA490, 0xA4C6},
    {0xA960, 0xA97C}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19},
    {0xFE30, 0xFE52}, {0xFE54, 0xFE66}, {0xFE68, 0xFE6B}, {0xFF01, 0xFF60},
    {0xFFE0, 0xFFE6}, {0x16FE0, 0x16FE4}, {0x16FF0, 0x16FF1}, {0x17000, 0x187F7},
    {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFFE}, {0x1B000, 0x1B122},
    {0x1B132, 0x1B132}, {0x1B150, 0x1B152}, {0x1B155, 0x1B155}, {0x1B164, 0x1B167},
    {0x1B170, 0x1B2FB}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B}, {0x1F240, 0x1F248},
    {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320}, {0x1F32D, 0x1F335},
    {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3},
    {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440},
    {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567},
    {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F},
    {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7},
    {0x1F6DC, 0x1F6DF}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB},
    {0x1F7F0, 0x1F7F0}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF},
    {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(unsigned cp, const cp_range *r, size_t n)
{
    if (n == 0 || cp < r[0].lo || cp > r[n - 1].hi)
        return false;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp > r[mid].hi)
            lo = mid + 1;
        else if (cp < r[mid].lo)
            hi = mid;
        else
            return true;
    }
    return false;
}

static bool is_control(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

int text_cp_width(unsigned cp)
{
    if (cp == 0 || is_control(cp))
        return 0;
    if (cp < 0x300)
        return 1;
    if (in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0]))
        return 0;
    if (in_ranges(cp, wide, sizeof wide / sizeof wide[0]))
        return 2;
    return 1;
}

#define BAD_CP 0xFFFFFFFFu  /* an invalid byte: shown as U+FFFD */

/* Decodes one code point at s[*i] with proto's strict decoder; an invalid
 * byte gives BAD_CP and advances one byte (bb_utf8_next steps one byte and
 * says U+FFFD there, which a real U+FFFD, three bytes, never does). */
static unsigned next_cp(const char *s, size_t len, size_t *i)
{
    size_t start = *i;
    unsigned cp = bb_utf8_next(s, len, i);
    return cp == 0xFFFDu && *i - start == 1 ? BAD_CP : cp;
}

size_t text_width(const char *s, size_t len)
{
    size_t w = 0, i = 0;
    while (i < len) {
        unsigned cp = next_cp(s, len, &i);
        w += cp == BAD_CP ? 1 : (size_t)text_cp_width(cp);
    }
    return w;
}

size_t text_widthz(const char *s)
{
    return s != NULL ? text_width(s, strlen(s)) : 0;
}

/* ---- a growable string ---- */

/* json.c's output buffer is exactly that (NUL-terminated, grows by
 * doubling, remembers a failed allocation); the table reuses it rather
 * than keeping a second copy of the growing. */
typedef json_out sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    json_raw(b, s, n);
}

static void sb_spaces(sbuf *b, size_t n)
{
    static const char sp[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        sb_add(b, sp, k);
        n -= k;
    }
}

/* Returns the string (owned) or NULL when an append failed. */
static char *sb_finish(sbuf *b, size_t *len)
{
    if (!b->failed && b->data == NULL)
        sb_add(b, "", 0);
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    if (len != NULL)
        *len = b->len;
    return b->data;
}

/* ---- cells ---- */

static const char replacement[] = "\xEF\xBF\xBD";   /* U+FFFD */
static const char ellipsis[] = "\xE2\x80\xA6";      /* U+2026, 1 column */

/* Width of a code point once in a cell: a control character becomes a
 * space, an invalid byte U+FFFD. */
static size_t cell_cp_width(unsigned cp)
{
    if (cp == BAD_CP || is_control(cp))
        return 1;
    return (size_t)text_cp_width(cp);
}

static size_t cell_width(const char *s, size_t len)
{
    size_t w = 0, i = 0;
    while (i < len)
        w += cell_cp_width(next_cp(s, len, &i));
    return w;
}

char *text_cell(const char *s, size_t max_cols)
{
    if (s == NULL)
        s = "";
    size_t len = strlen(s);
    bool cut = max_cols > 0 && cell_width(s, len) > max_cols;
    size_t limit = cut ? max_cols - 1 : (size_t)-1;   /* room left for "…" */
    sbuf b = { 0 };
    size_t w = 0, i = 0;
    while (i < len) {
        size_t start = i;
        unsigned cp = next_cp(s, len, &i);
        size_t cw = cell_cp_width(cp);
        if (w + cw > limit)
            break;
        w += cw;
        if (cp == BAD_CP)
            sb_add(&b, replacement, sizeof replacement - 1);
        else if (is_control(cp))
            sb_add(&b, " ", 1);
        else
            sb_add(&b, s + start, i - start);
    }
    if (cut)
        sb_add(&b, ellipsis, sizeof ellipsis - 1);
    return sb_finish(&b, NULL);
}

/* ---- tables ---- */

struct table {
    size_t ncols;
    table_align *align;
    char **cells;          /* nrows * ncols, owned */
    size_t nrows, caprows;
};

table *table_new(size_t ncols)
{
    if (ncols == 0)
        return NULL;
    table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->align = calloc(ncols, sizeof *t->align);
    if (t->align == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void table_free(table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->align);
    free(t);
}

void table_set_align(table *t, size_t col, table_align a)
{
    if (col < t->ncols)
        t->align[col] = a;
}

int table_add_row(table *t, const char *const *cells)
{
    if (t->nrows == t->caprows) {
        size_t cap = t->caprows ? t->caprows * 2 : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
        if (c == NULL)
            return -1;
        t->cells = c;
        t->caprows = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = text_cell(cells[i], 0);
        if (row[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(row[j]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

char *table_render(const table *t, size_t *len)
{
    size_t *w = calloc(t->ncols, sizeof *w);
    if (w == NULL)
        return NULL;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = text_widthz(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    sbuf b = { 0 };
    for (size_t r = 0; r < t->nrows; r++) {
        size_t line_start = b.len;
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            size_t pad = w[c] - text_widthz(cell);
            if (c > 0)
                sb_add(&b, "  ", 2);
            if (t->align[c] == TABLE_RIGHT)
                sb_spaces(&b, pad);
            sb_add(&b, cell, strlen(cell));
            if (t->align[c] == TABLE_LEFT)
                sb_spaces(&b, pad);
        }
        /* No trailing spaces (a last column that is empty or left-aligned). */
        while (!b.failed && b.len > line_start && b.data[b.len - 1] == ' ')
            b.len--;
        sb_add(&b, "\n", 1);
    }
    free(w);
    return sb_finish(&b, len);
}

char *fields_render(const char *const *names, const char *const *values, size_t n)
{
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = text_widthz(names[i]);
        if (w > nw)
            nw = w;
    }
    size_t indent = nw + 2;   /* "name:" and at least one space */
    sbuf b = { 0 };
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] != NULL ? values[i] : "";
        sb_add(&b, names[i], strlen(names[i]));
        sb_add(&b, ":", 1);
        if (v[0] != '\0')
            sb_spaces(&b, indent - text_widthz(names[i]) - 1);
        /* Each line of the value through text_cell, so no control character
         * reaches the terminal. */
        const char *line = v;
        for (;;) {
            const char *nl = strchr(line, '\n');
            size_t ln = nl != NULL ? (size_t)(nl - line) : strlen(line);
            char *part = malloc(ln + 1);
            if (part == NULL) {
                b.failed = true;
                break;
            }
            memcpy(part, line, ln);
            part[ln] = '\0';
            char *cell = text_cell(part, 0);
            free(part);
            if (cell == NULL) {
                b.failed = true;
                break;
            }
            sb_add(&b, cell, strlen(cell));
            free(cell);
            if (nl == NULL)
                break;
            sb_add(&b, "\n", 1);
            sb_spaces(&b, indent);
            line = nl + 1;
        }
        sb_add(&b, "\n", 1);
    }
    return sb_finish(&b, NULL);
}
