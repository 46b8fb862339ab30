"""The appointment as an iCalendar (RFC 5545) file, written with the ``icalendar`` library."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vText

from .models import Referral, SiteClinic


def appointment_ics(*, referral: Referral, clinic: SiteClinic, title: str, sequence: int) -> str:
    """One VEVENT on the appointment day during clinic hours, in the site's time zone.

    The UID is stable per referral, so a changed day (``sequence`` + 1) updates the
    calendar entry the person already saved instead of adding a second one.
    """
    site = clinic.trial_site.site
    zone = site.zone
    day = referral.appointment_date
    start = datetime.datetime.combine(day, clinic.opens_at, tzinfo=zone)
    end = datetime.datetime.combine(day, clinic.closes_at, tzinfo=zone)
    cal = Calendar()
    cal.add("prodid", "-//HB Trials//recruiting//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{referral.reference}@hbtrials")
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", start.astimezone(datetime.UTC))
    event.add("dtend", end.astimezone(datetime.UTC))
    event.add("sequence", sequence)
    event.add("summary", vText(_("Trial clinic: %(title)s") % {"title": title}))
    where = ", ".join(p for p in (clinic.clinic_name, clinic.address, clinic.city) if p)
    event.add("location", vText(where))
    event.add(
        "description",
        vText(
            _("Reference %(reference)s. Bring your medical records and scans.")
            % {"reference": referral.reference}
        ),
    )
    confirmed = referral.status in (Referral.Status.ACCEPTED, Referral.Status.CONVERTED)
    event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")
