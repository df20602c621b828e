/* mailbox.h: a bounded, thread-safe FIFO of intrusive items with an eventfd
 *
 * The bus's threads (HTTP workers, the adapter broker, the log writer) talk
 * only through mailboxes: a producer posts an item, the consumer's event loop
 * watches mailbox_fd() and drains the whole queue at once. The eventfd is
 * written only on the empty -> non-empty transition, so a busy consumer costs
 * one syscall per batch, not per item.
 *
 * Items are owned by whoever holds them: posting hands the item to the
 * consumer, which hands it back (or on) by posting it elsewhere.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>

typedef struct MailboxItem {
        struct MailboxItem *next;
        int kind; /* the consumer's discriminator */
} MailboxItem;

typedef struct Mailbox {
        pthread_mutex_t lock;
        MailboxItem *head, *tail;
        size_t count, capacity; /* capacity 0: unbounded (only for replies) */
        int fd;                 /* eventfd, non-blocking */
} Mailbox;

/* A mailbox that was never initialised: mailbox_deinit() leaves it alone. Embedders
 * start from it, so a failed start can deinit every mailbox whether it got to
 * mailbox_init() or not (a zeroed Mailbox would close fd 0). */
#define MAILBOX_NULL ((Mailbox){ .fd = -1 })

/* mailbox_init(): `capacity` bounds mailbox_post(); 0 = unbounded. Return: 0 or -errno. */
int mailbox_init(Mailbox *mb, size_t capacity);
/* mailbox_deinit(): close and destroy; a MAILBOX_NULL (or already deinit'ed) mailbox is left alone. */
void mailbox_deinit(Mailbox *mb);

/*
 * mailbox_post(): append `item` (ownership passes to the consumer).
 * Return: 0, or -EAGAIN when the mailbox is full (the caller keeps the item).
 */
int mailbox_post(Mailbox *mb, MailboxItem *item);

/*
 * mailbox_drain(): take every queued item, in posting order, as a list
 * linked by ->next (NULL when empty), and clear the eventfd.
 */
MailboxItem *mailbox_drain(Mailbox *mb);

/* mailbox_wait(): block until the eventfd is readable or `timeout_ms` (-1: forever) passes. */
void mailbox_wait(Mailbox *mb, int timeout_ms);

static inline int mailbox_fd(const Mailbox *mb)
{
        return mb->fd;
}
