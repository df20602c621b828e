/* mailbox.c: bounded FIFO + eventfd for handing work between threads */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/mailbox.h"

int mailbox_init(Mailbox *mb, size_t capacity)
{
        *mb = (Mailbox){ .capacity = capacity, .fd = -1 };
        mb->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (mb->fd < 0)
                return -errno;
        pthread_mutex_init(&mb->lock, NULL);
        return 0;
}

void mailbox_deinit(Mailbox *mb)
{
        if (mb->fd < 0)
                return;
        close(mb->fd);
        mb->fd = -1;
        pthread_mutex_destroy(&mb->lock);
}

int mailbox_post(Mailbox *mb, MailboxItem *item)
{
        bool wake;

        item->next = NULL;
        pthread_mutex_lock(&mb->lock);
        if (mb->capacity > 0 && mb->count >= mb->capacity) {
                pthread_mutex_unlock(&mb->lock);
                return -EAGAIN;
        }
        wake = !mb->head;
        if (mb->tail)
                mb->tail->next = item;
        else
                mb->head = item;
        mb->tail = item;
        mb->count++;
        pthread_mutex_unlock(&mb->lock);

        if (wake) {
                uint64_t one = 1;
                (void)!write(mb->fd, &one, sizeof(one));
        }
        return 0;
}

MailboxItem *mailbox_drain(Mailbox *mb)
{
        MailboxItem *list;
        uint64_t v;

        /* Clear the eventfd first: a post racing with us re-arms it. */
        (void)!read(mb->fd, &v, sizeof(v));
        pthread_mutex_lock(&mb->lock);
        list = mb->head;
        mb->head = mb->tail = NULL;
        mb->count = 0;
        pthread_mutex_unlock(&mb->lock);
        return list;
}

void mailbox_wait(Mailbox *mb, int timeout_ms)
{
        struct pollfd p = { .fd = mb->fd, .events = POLLIN };

        (void)poll(&p, 1, timeout_ms);
}
