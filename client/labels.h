/*
 * labels.h: what a person calls an argument of a method, or a key of a
 * record the CLI prints, in the user's language.
 *
 * In Chinese both come from the method spec's argument docs, which are
 * written in Chinese and are the one place a field is described: the doc
 * up to its first "；" or "：" (the rest is for the help), so that
 * guided entry's prompts and summary and the lines of a record name a
 * field with the same words. A record's keys that no argument names
 * (id, created_at, withdrawn_at, ...) take their words from one table
 * here, marked N_() and translated in po/zh_CN.po. In English guided
 * entry says an argument's name with spaces, and a record keeps the
 * protocol's keys exactly as they are (scripts and tests read them).
 *
 * Not for: table column headers (declared N_() next to their columns),
 * the field named in an error (cli_call.c), or values.
 */
#ifndef BB_CLI_LABELS_H
#define BB_CLI_LABELS_H

#include "bb_spec.h"

#include <stdbool.h>

/* How a person calls argument a. Chinese: the doc up to its first "；"
 * or "：" ("报告日期：不早于 …" is 报告日期), "编号" dropped when record
 * (the argument names a record the person names by its name: 企业, not
 * 企业编号). English: its name with spaces for "_", "_id" dropped when
 * record. Returned owned (free); NULL on no memory. */
char *cli_arg_label(const bb_arg *a, bool record);

/* The label of key in a record that method ms answered (NULL when the
 * printer does not know the method). English: key as it is. Chinese:
 *   1. the table's words, for the few keys whose argument says what a
 *      change sends rather than what the record holds (version: the
 *      argument is 修改所依据的版本号; stage, reason, value);
 *   2. else the argument of that name of a method answering the same
 *      kind of record as ms (the result's leading name: Problem for
 *      "Problem with events"), the writes first, in the spec's order, so
 *      that the method creating such records names its fields (生产状态,
 *      not status.correct's 新的生产状态): its doc cut as cli_arg_label
 *      cuts it, and to its first "，" as well (a label is one phrase:
 *      标签，整组替换 is 标签); a doc whose cut still holds a Latin letter
 *      or a digit (naming another argument, or an example) is help, not
 *      a label, and is passed over;
 *   3. else the table's words (id, created_at, ..., and the keys of a
 *      record printed without its method: the User of `baobao login`);
 *   4. else key as it is.
 * "prefix.key" (a map inside the record, server.info's limits) is the
 * prefix's label, ".", and key's label from the table. Returned owned
 * (free); NULL on no memory. */
char *cli_key_label(const bb_method_spec *ms, const char *key);

#endif
