#!/usr/bin/perl
# smtp-probe.pl SERVER PORT SRC HELO FROM RCPT [TAG [LOGIN PASSWORD]] - one
# SMTP session that sends MAIL FROM:FROM and RCPT TO:RCPT byte for byte as
# given (no brackets added, no splitting at commas: source routes, quoted
# local parts and bare addresses go out exactly as written), then a small
# message with "Message-ID: <TAG@audit>" if the RCPT was accepted.  With
# LOGIN and PASSWORD it authenticates (AUTH PLAIN) after EHLO.  Prints one
# line per reply: "CONN|EHLO|AUTH|MAIL|RCPT|DATA|DOT CODE TEXT" (the last
# line of a multi-line reply).  Exit 0 when the dialogue ran, 1 when it
# broke.
use strict;
use warnings;
use IO::Socket::INET;
use MIME::Base64;

@ARGV >= 6 or die "usage: $0 SERVER PORT SRC HELO FROM RCPT [TAG [LOGIN PASSWORD]]\n";
my ($server, $port, $src, $helo, $from, $rcpt, $tag, $login, $password) = @ARGV;
$tag //= 'probe';
$SIG{ALRM} = sub { print "TIMEOUT\n"; exit 1 };
alarm 30;
my $s = IO::Socket::INET->new(
	PeerAddr  => $server,
	PeerPort  => $port,
	LocalAddr => $src,
	Proto     => 'tcp'
) or die "connect: $!\n";

sub reply {
	my ($what) = @_;
	my $line;
	while (defined($line = <$s>)) {
		$line =~ s/\r?\n$//;
		last if $line !~ /^\d\d\d-/;
	}
	defined $line or do { print "$what EOF\n"; exit 1 };
	print "$what $line\n";
	return substr($line, 0, 1);
}

sub cmd {
	my ($what, $text) = @_;
	print $s "$text\r\n";
	return reply($what);
}
reply('CONN') eq '2' or exit 1;
cmd('EHLO', "EHLO $helo") eq '2' or exit 1;
if (defined $login) {
	cmd('AUTH', 'AUTH PLAIN ' . encode_base64("\0$login\0$password", ''))
	  eq '2' or do { cmd('QUIT', 'QUIT'); exit 0 };
}
cmd('MAIL', "MAIL FROM:$from") eq '2' or do { cmd('QUIT', 'QUIT'); exit 0 };
if (cmd('RCPT', "RCPT TO:$rcpt") eq '2' && cmd('DATA', 'DATA') eq '3') {
	print $s "From: probe\@client.example\r\nTo: probe\r\n",
	  "Message-ID: <$tag\@audit>\r\nSubject: $tag\r\n\r\nrelay audit probe $tag\r\n.\r\n";
	reply('DOT');
}
cmd('QUIT', 'QUIT');
exit 0;
