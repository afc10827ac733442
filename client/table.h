/*
 * table.h: text laid out for a terminal by display width.
 *
 * For: how many columns a string takes on a terminal (Chinese and other
 * East Asian Wide/Fullwidth characters take 2, combining marks 0), tables
 * with a header row whose columns line up however wide their characters
 * are, and aligned "field: value" blocks.
 * Not for: reading terminal width or wrapping long text; ambiguous-width
 * characters (“ ” … ·) count 1, as in a terminal not set to CJK width.
 *
 * All text is UTF-8; bytes that are not valid UTF-8 count 1 column each and
 * are shown as U+FFFD in cells. Returned strings are malloc'd and owned by
 * the caller.
 */
#ifndef BB_TABLE_H
#define BB_TABLE_H

#include <stddef.h>

/* Columns code point cp takes: 0 (combining mark, zero-width, control),
 * 1, or 2 (East Asian Wide or Fullwidth). */
int text_cp_width(unsigned cp);
/* Columns of s[0..len). */
size_t text_width(const char *s, size_t len);
size_t text_widthz(const char *s);
/* A copy of s fit for one line of a cell: control characters (newline, tab,
 * ...) become spaces, invalid bytes U+FFFD; when max_cols > 0 and s is
 * wider, it is cut to max_cols columns ending in "…". NULL on no memory. */
char *text_cell(const char *s, size_t max_cols);

typedef enum table_align {
    TABLE_LEFT = 0,
    TABLE_RIGHT,
} table_align;

typedef struct table table;

/* A table of ncols columns (at least 1), all left-aligned. NULL on no memory. */
table *table_new(size_t ncols);
void table_free(table *t);
void table_set_align(table *t, size_t col, table_align a);
/* Appends a row of ncols cells (copied through text_cell; NULL means "").
 * The first row is the header. Returns 0, or -1 on no memory. */
__attribute__((warn_unused_result))
int table_add_row(table *t, const char *const *cells);
/* Renders every row as one line ending in "\n": cells padded with spaces
 * to their column's display width, columns two spaces apart, no trailing
 * spaces. *len (when not NULL) receives the length. NULL on no memory. */
char *table_render(const table *t, size_t *len);

/* Renders n "name: value" lines with the values starting in one column
 * (names padded by display width). A newline in a value continues it on
 * the next line at the value column; other control characters become
 * spaces. NULL on no memory. */
char *fields_render(const char *const *names, const char *const *values, size_t n);

#endif
