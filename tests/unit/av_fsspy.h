/*
 * av_fsspy.h - how many files and folders were created under one folder
 * (av_fsspy.c), for test_av.
 */
#ifndef VIGIL_TEST_AV_FSSPY_H
#define VIGIL_TEST_AV_FSSPY_H

/* Starts counting creations under dir (absolute), from zero. */
void		 fsspy_watch(const char *dir);
unsigned long	 fsspy_files(void);
unsigned long	 fsspy_dirs(void);

#endif
