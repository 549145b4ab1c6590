#!/usr/bin/perl
# sa-hits.pl - the reference side of sa-compare.sh: SpamAssassin itself,
# through its library (one rule load for all messages instead of one
# `spamassassin -t -L -D rules` process each), network tests off (unless
# SA_HITS_DNS), Bayes off, and the score set "Bayes on, network tests
# off" that vigil uses.
#
# usage: sa-hits.pl RULES_DIR FILE...   (or file names on stdin)
# prints "FILE: RULE RULE ..." (sub-rules included) and, on stderr, the
# total check time.
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes qw(time clock_gettime CLOCK_PROCESS_CPUTIME_ID);
use File::Temp qw(tempdir);

my $rules = shift @ARGV or die "usage: sa-hits.pl RULES_DIR FILE...\n";
my $home = tempdir(CLEANUP => 1);
# SA_HITS_DNS=ADDR: network tests on, asking the DNS server at ADDR
# (tests/rules/dns-sender.sh); the score set stays the one vigil reads.
my $dns = $ENV{SA_HITS_DNS};
my $sa = Mail::SpamAssassin->new({
	rules_filename		=> $rules,
	site_rules_filename	=> '/etc/spamassassin',
	userprefs_filename	=> "$home/user_prefs",
	userstate_dir		=> $home,
	local_tests_only	=> $dns ? 0 : 1,
	dont_copy_prefs		=> 1,
	post_config_text	=> "use_bayes 0\nuse_auto_whitelist 0\n" .
	    ($dns ? "dns_available yes\ndns_server $dns\nrbl_timeout 5\n" : ""),
});
$sa->init(1);
# Score set 2: Bayes on, network tests off (the one vigil reads).
# SA_HITS_SET=3 (with SA_HITS_DNS): the set with network tests, the only
# ones where SpamAssassin runs its `tflags net` eval rules (SPF, DKIM,
# DMARC: tests/rules/auth-golden.sh).
$sa->{conf}->set_score_set($ENV{SA_HITS_SET} // 2);

my @files = @ARGV;
if (!@files) {
	chomp(@files = <STDIN>);
}
my ($total, $cpu, $n) = (0, 0, 0);
for my $f (@files) {
	open(my $fh, '<', $f) or die "$f: $!\n";
	my @lines = <$fh>;
	close($fh);
	my $t0 = time;
	my $c0 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
	my $mail = $sa->parse(\@lines);
	my $st = $sa->check($mail);
	my @hit = split(/,/, $st->get_names_of_tests_hit());
	push @hit, split(/,/, $st->get_names_of_subtests_hit());
	$st->finish();
	$mail->finish();
	$cpu += clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $c0;
	$total += time - $t0;
	$n++;
	print "$f: ", join(' ', @hit), "\n";
}
printf STDERR "sa-hits: messages=%d total_s=%.3f ms_per_msg=%.3f "
    . "cpu_ms_per_msg=%.3f\n", $n, $total, $n ? 1000 * $total / $n : 0,
    $n ? 1000 * $cpu / $n : 0;
