/*
 * saywhy.h: a failed call that the lesson expected, explained.
 *
 * die_errno() explains a failure and ends the program. Some failures are
 * the point of a lesson (connect refused with EACCES, bind refused with
 * EADDRINUSE): the lesson shows them and goes on. say_failed() prints the
 * same words as die_errno(), on standard output, and returns:
 *
 *     [nobody] connect failed: EACCES (Permission denied)
 *       why:  For AF_UNIX you may not write the socket file or enter a ...
 *       hint: Check the permissions of the AF_UNIX path; ...
 */
#ifndef SOCKSCOPE_SAYWHY_H
#define SOCKSCOPE_SAYWHY_H

/* Print that `call` failed with `err`, why, and a hint. */
void say_failed(const char *call, int err);

#endif
