#!/usr/bin/perl
# sign.pl - how the dkim-*.eml messages here were signed (once; the
# signatures carry no expiry): Mail::DKIM with tests/data/auth's 2048-bit
# key, selector s2048, relaxed/relaxed, the signature put above the
# headers the receiving MX added (Return-Path, Received) as the sender's
# MTA would have.  auth-golden.sh serves the public key in dkim.example.com.
#
# usage: sign.pl KEY FILE [IDENTITY] [--break]
#   IDENTITY: an i= tag (@news.dkim.example.com); --break alters the body after
#   signing (a signature that does not verify).
use strict;
use warnings;
use Mail::DKIM::Signer;

my ($key, $file, @rest) = @ARGV;
my $break = grep { $_ eq '--break' } @rest;
my ($identity) = grep { $_ ne '--break' } @rest;
open(my $fh, '<', $file) or die "$file: $!\n";
my @lines = <$fh>;
close($fh);
# The MX's own headers come before the sender's.
my @mx;
push @mx, shift @lines while @lines && $lines[0] =~ /^(?:Return-Path:|Received:|\s)/;
my $dkim = Mail::DKIM::Signer->new(Algorithm => 'rsa-sha256',
    Method => 'relaxed', Domain => 'dkim.example.com', Selector => 's2048',
    KeyFile => $key, Headers => 'from:to:subject:date:message-id',
    defined $identity ? (Identity => $identity) : ());
for (@lines) {
	(my $l = $_) =~ s/\n\z/\015\012/;
	$dkim->PRINT($l);
}
$dkim->CLOSE;
my $sig = $dkim->signature->as_string;
$sig =~ s/\015\012/\n/g;
$sig =~ s/([^\n]{72}[^;\n]*;) ?/$1\n\t/g;
if ($break) {
	s/shared folder/shared drive/ for @lines;
}
open($fh, '>', $file) or die "$file: $!\n";
print $fh @mx, "$sig\n", @lines;
close($fh);
