"""Caliper 1.2 and the Timeback profile, declared compactly: every entity type with its own fields,
every event type with the actions, actors, objects and generated entities its profiles allow.

This is the one source the JSON Schemas (`events.py`) and the validator (`validate.py`) are built
from. The facts are those of the Caliper Analytics 1.2 information model (1EdTech), checked against
its published fixtures, and of Timeback's events API and official Python client (`timeback-caliper`)
for the Timeback profile. Nothing here is copied from those documents: the tables are ours.

Field vocabulary: plain JSON Schema fragments (built with `specs/schema_kit.py`) plus two
annotations the builders understand:

* `x-tb-node: [T, ...]`: an entity-valued property. The value is either an IRI string naming the
  entity, or an embedded object whose `type` is one of the listed types or one of their subtypes
  (`x-tb-iri: false` where Caliper has no IRI form, e.g. a TextPositionSelector).
* `x-tb-decimal: true`: Caliper's Decimal ("a number with a fractional part"). JSON does not tell
  `50` from `50.0`, and Timeback's own examples and client send integers, so only strict mode
  (1EdTech conformance reading) refuses an integer literal there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tbconform.specs.schema_kit import arr, enum, obj, s

CONTEXT_V1P2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"

# ----------------------------------------------------------------------------------------------
# Field vocabulary
# ----------------------------------------------------------------------------------------------

TEXT = s()
TEXTS = arr(s())
INTEGER = s("integer")
COUNT = s("integer", minimum=0)  # "a non-negative integer"
DECIMAL = {"type": "number", "x-tb-decimal": True}
NUMBER = s("number")
BOOLEAN = s("boolean")
DATETIME = s(format="date-time")  # ISO 8601; Caliper wants YYYY-MM-DDTHH:mm:ss.SSSZ (strict mode)
DURATION = s(format="duration")  # ISO 8601 duration, e.g. PT50M30S
IRI = s(format="iri")
MAP = s("object")  # an open JSON object (extensions, LTI message parameters)
EMAIL = s(format="email", minLength=1)
CONTEXT = {"x-tb-context": True}  # the JSON-LD @context (see validate.py: caliper.context.*)


def node(*types: str, iri: bool = True) -> dict[str, Any]:
    """An entity-valued property: an IRI, or an embedded entity of one of `types` (or a subtype)."""
    out: dict[str, Any] = {"x-tb-node": list(types)}
    if not iri:
        out["x-tb-iri"] = False
    return out


def nodes(*types: str, iri: bool = True) -> dict[str, Any]:
    return arr(node(*types, iri=iri))


def named(**extra: Any) -> dict[str, Any]:
    """Timeback's small {id?, name, extensions?} descriptors (app, course, activity)."""
    return obj({"id": IRI, "name": s(minLength=1), "extensions": MAP, **extra}, ["name"])


# ----------------------------------------------------------------------------------------------
# Vocabularies (terms)
# ----------------------------------------------------------------------------------------------

ACTIONS = (
    "Abandoned Accepted Activated Added Archived Attached Bookmarked ChangedResolution ChangedSize "
    "ChangedSpeed ChangedVolume Classified ClosedPopout Commented Completed Copied Created "
    "Deactivated Declined Deleted Described DisabledClosedCaptioning Disliked Downloaded "
    "EnabledClosedCaptioning Ended EnteredFullScreen ExitedFullScreen ForwardedTo Graded Hid "
    "Highlighted Identified JumpedTo Launched Liked Linked LoggedIn LoggedOut MarkedAsRead "
    "MarkedAsUnread Modified Muted NavigatedTo OpenedPopout OptedIn OptedOut Paused Posted Printed "
    "Published Questioned Ranked Recommended Removed Reset Restarted Restored Resumed Retrieved "
    "Returned Reviewed Rewound Saved Searched Sent Shared Showed Skipped Started Submitted "
    "Subscribed Tagged TimedOut Unmuted Unpublished Unsubscribed Uploaded Used Viewed").split()
TIMEBACK_ACTIONS = ("SpentTime",)  # Timeback profile only (TimeSpentEvent)

CALIPER_PROFILES = (
    "AnnotationProfile AssessmentProfile AssignableProfile FeedbackProfile ForumProfile "
    "GeneralProfile GradingProfile MediaProfile ReadingProfile ResourceManagementProfile "
    "SearchProfile SessionProfile SurveyProfile ToolLaunchProfile ToolUseProfile").split()
TIMEBACK_PROFILE = "TimebackProfile"
PROFILES = (*CALIPER_PROFILES, TIMEBACK_PROFILE)
GENERAL = "GeneralProfile"  # governs the generic Event; accepted on every Caliper event type

METRICS = ("AssessmentsPassed AssessmentsSubmitted MinutesOnTask SkillsMastered StandardsMastered "
           "UnitsCompleted UnitsPassed WordsRead").split()
_ROLE_TREE = {
    "Administrator": "Administrator Developer ExternalDeveloper ExternalSupport "
                     "ExternalSystemAdministrator Support SystemAdministrator",
    "ContentDeveloper": "ContentDeveloper ContentExpert ExternalContentExpert Librarian",
    "Instructor": "ExternalInstructor Grader GuestInstructor Instructor Lecturer PrimaryInstructor "
                  "SecondaryInstructor TeachingAssistant TeachingAssistantGroup "
                  "TeachingAssistantOffering TeachingAssistantSection TeachingAssistantTemplate",
    "Learner": "ExternalLearner GuestLearner Learner NonCreditLearner",
    "Manager": "AreaManager CourseCoordinator ExternalObserver Manager Observer",
    "Member": "Member",
    "Mentor": "Advisor ExternalAdvisor ExternalAuditor ExternalLearningFacilitator ExternalMentor "
              "ExternalReviewer ExternalTutor LearningFacilitator Mentor Reviewer Tutor",
    "Officer": "Chair Secretary Treasurer Vice-Chair",
}
ROLES = [r for base, subs in _ROLE_TREE.items() for r in (base, *(f"{base}#{x}" for x in subs.split()))]
STATUSES = ("Active", "Inactive")
IDENTIFIER_TYPES = ("AccountUserName EmailAddress LisSourcedId LtiContextId LtiDeploymentId "
                    "LtiToolId LtiPlatformId LtiUserId OneRosterSourcedId Other SisSourcedId "
                    "SystemId").split()

# Timeback profile vocabularies. Subjects: the union of Timeback's events API (Science, Math,
# Reading, Language, Social Studies, None) and its official client (adds Vocabulary, Writing,
# FastMath, Other), so that every subject the official client sends is accepted.
TIMEBACK_SUBJECTS = ("Reading", "Language", "Vocabulary", "Social Studies", "Writing", "Science",
                     "FastMath", "Math", "None", "Other")
TIMEBACK_ROLES = ("student", "teacher", "admin", "guide")
ACTIVITY_METRICS = ("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits")
TIME_SPENT_METRICS = ("active", "inactive", "waste", "unknown", "anti-pattern")

# ----------------------------------------------------------------------------------------------
# Entities
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityType:
    name: str
    parents: tuple[str, ...]
    fields: dict[str, Any]  # own fields; a subtype's field replaces the parent's of that name
    required: tuple[str, ...] = ()  # own required fields (added to the parents')
    profile: str = "caliper"  # caliper | timeback
    note: str = ""


ENTITIES: dict[str, EntityType] = {}


def entity(name: str, parents: str = "Entity", /, required: str = "", profile: str = "caliper",
           note: str = "", **fields: Any) -> None:
    ENTITIES[name] = EntityType(name, tuple(parents.split()), fields, tuple(required.split()),
                                profile, note)


# Roots. SystemIdentifier and TextPositionSelector are not Entities: no IRI, no Entity fields.
entity("Entity", "", required="id type", **{
    "@context": CONTEXT, "id": IRI, "type": TEXT, "name": TEXT, "description": TEXT,
    "dateCreated": DATETIME, "dateModified": DATETIME,
    "otherIdentifiers": nodes("SystemIdentifier"), "extensions": MAP, "isPartOf": node("Entity")})
entity("SystemIdentifier", "", required="type identifier identifierType", **{
    "@context": CONTEXT, "type": TEXT, "identifier": TEXT, "identifierType": enum(*IDENTIFIER_TYPES),
    "source": node("SoftwareApplication"), "extensions": MAP})
entity("TextPositionSelector", "", required="type", **{
    "@context": CONTEXT, "type": TEXT, "start": COUNT, "end": COUNT})

# Agents
entity("Agent")
entity("Person", "Agent")
entity("SoftwareApplication", "Agent", host=TEXT, ipAddress=TEXT, userAgent=TEXT, version=TEXT)
entity("Organization", "Agent", members=nodes("Agent"), subOrganizationOf=node("Organization"))
entity("CourseOffering", "Organization", courseNumber=TEXT, academicSession=TEXT)
entity("CourseSection", "CourseOffering", category=TEXT)
entity("Group", "Organization")

# Digital resources
entity("DigitalResource", storageName=TEXT, mediaType=TEXT, version=TEXT, creators=nodes("Agent"),
       keywords=TEXTS, learningObjectives=nodes("LearningObjective"), datePublished=DATETIME)
entity("AssignableDigitalResource", "DigitalResource", dateToActivate=DATETIME, dateToShow=DATETIME,
       dateToStartOn=DATETIME, dateToSubmit=DATETIME, maxAttempts=COUNT, maxSubmits=COUNT,
       maxScore=DECIMAL)
entity("Collection", items=nodes("Entity"))
entity("DigitalResourceCollection", "DigitalResource Collection", items=nodes("DigitalResource"))
entity("Assessment", "AssignableDigitalResource DigitalResourceCollection",
       items=nodes("AssessmentItem"))
entity("AssessmentItem", "AssignableDigitalResource", isTimeDependent=BOOLEAN,
       isPartOf=node("Assessment"))
for _name in ("Document", "Chapter", "Page", "WebPage"):
    entity(_name, "DigitalResource")
entity("Frame", "DigitalResource", index=COUNT)
entity("LtiLink", "DigitalResource", messageType=TEXT)
entity("MediaObject", "DigitalResource", duration=DURATION)
entity("AudioObject", "MediaObject", muted=BOOLEAN, volumeLevel=TEXT, volumeMin=TEXT, volumeMax=TEXT)
entity("ImageObject", "MediaObject")
entity("VideoObject", "MediaObject")
entity("MediaLocation", "DigitalResource", currentTime=DURATION)
entity("Forum", "DigitalResourceCollection", items=nodes("Thread"))
entity("Thread", "DigitalResourceCollection", items=nodes("Message"), isPartOf=node("Forum"))
entity("Message", "DigitalResource", body=TEXT, attachments=nodes("DigitalResource"),
       replyTo=node("Message"), isPartOf=node("Thread"))
entity("Question", "DigitalResource", questionPosed=TEXT)
entity("DateTimeQuestion", "Question", minDateTime=DATETIME, maxDateTime=DATETIME, minLabel=TEXT,
       maxLabel=TEXT)
entity("MultiselectQuestion", "Question", itemLabels=TEXTS, itemValues=TEXTS, points=INTEGER)
entity("OpenEndedQuestion", "Question")
entity("RatingScaleQuestion", "Question", scale=node("Scale"))
entity("QuestionnaireItem", "DigitalResource", question=node("Question"), categories=TEXTS,
       weight=DECIMAL)
entity("Questionnaire", "DigitalResourceCollection", items=nodes("QuestionnaireItem"))
entity("SurveyInvitation", "DigitalResource", rater=node("Person"), survey=node("Survey"),
       sentCount=COUNT, dateSent=DATETIME)
entity("Survey", "Collection", items=nodes("Questionnaire"))

# Other entities
entity("LearningObjective")
entity("Link")
entity("AggregateMeasure", required="metricValue metric", metricValue=DECIMAL,
       maxMetricValue=DECIMAL, metric=enum(*METRICS), startedAtTime=DATETIME, endedAtTime=DATETIME)
entity("AggregateMeasureCollection", "Collection", items=nodes("AggregateMeasure"))
entity("Annotation", annotator=node("Person"), annotated=node("DigitalResource"))
entity("BookmarkAnnotation", "Annotation", bookmarkNotes=TEXT)
entity("HighlightAnnotation", "Annotation", selection=node("TextPositionSelector", iri=False),
       selectionText=TEXT)
entity("SharedAnnotation", "Annotation", withAgents=nodes("Agent"))
entity("TagAnnotation", "Annotation", tags=TEXTS)
entity("Attempt", assignee=node("Person"), assignable=node("DigitalResource"), count=COUNT,
       duration=DURATION, startedAtTime=DATETIME, endedAtTime=DATETIME, isPartOf=node("Attempt"))
entity("Response", attempt=node("Attempt"), startedAtTime=DATETIME, endedAtTime=DATETIME,
       duration=DURATION)
entity("DateTimeResponse", "Response", dateTimeSelected=DATETIME)
for _name in ("FillinBlankResponse", "MultipleResponseResponse", "SelectTextResponse"):
    entity(_name, "Response", values=TEXTS)
for _name in ("MultipleChoiceResponse", "OpenEndedResponse", "TrueFalseResponse"):
    entity(_name, "Response", value=TEXT)
for _name in ("MultiselectResponse", "RatingScaleResponse"):
    entity(_name, "Response", selections=TEXTS)
entity("Comment", commenter=node("Person"), commentedOn=node("Entity"), value=TEXT)
entity("Rating", rater=node("Person"), rated=node("Entity"), question=node("Question"),
       scale=node("Scale"), selections=TEXTS, ratingComment=node("Comment"))
entity("Scale")
entity("LikertScale", "Scale", scalePoints=COUNT, itemLabels=TEXTS, itemValues=TEXTS)
entity("MultiselectScale", "Scale", scalePoints=COUNT, itemLabels=TEXTS, itemValues=TEXTS,
       isOrderedSelection=BOOLEAN, minSelections=COUNT, maxSelections=COUNT)
entity("NumericScale", "Scale", minLabel=TEXT, maxLabel=TEXT, minValue=DECIMAL, maxValue=DECIMAL,
       step=DECIMAL)
entity("Result", attempt=node("Attempt"), maxResultScore=DECIMAL, resultScore=DECIMAL,
       scoredBy=node("Agent"), comment=TEXT)
entity("Score", attempt=node("Attempt"), maxScore=DECIMAL, scoreGiven=DECIMAL,
       scoredBy=node("Agent"), comment=TEXT)
entity("Membership", organization=node("Organization"), member=node("Person"),
       roles=arr(enum(*ROLES)), status=enum(*STATUSES))
entity("Query", creator=node("Person"), searchTarget=node("Entity"), searchTerms=TEXT)
entity("SearchResponse", searchProvider=node("SoftwareApplication"), searchTarget=node("Entity"),
       query=node("Query"), searchResultsItemCount=COUNT)
entity("Session", user=node("Person"), client=node("SoftwareApplication"), startedAtTime=DATETIME,
       endedAtTime=DATETIME, duration=DURATION)
entity("LtiSession", "Session", messageParameters=MAP)

# Timeback profile. TimebackUser is declared a Person so that it may act wherever Caliper wants a
# Person (Timeback lists it among the agents); the metric collections carry plain metric objects,
# not entities.
entity("TimebackUser", "Person", required="email", profile="timeback",
       email=EMAIL, name=TEXT, role=enum(*TIMEBACK_ROLES))
entity("TimebackActivityContext", required="subject app", profile="timeback",
       subject=enum(*TIMEBACK_SUBJECTS), app=named(), course=named(), activity=named(),
       process=BOOLEAN)
entity("TimebackActivityMetricsCollection", required="items", profile="timeback",
       items=arr(obj({"type": enum(*ACTIVITY_METRICS), "value": NUMBER, "extensions": MAP},
                     ["type", "value"])),
       attempt=s("integer", minimum=1))
entity("TimebackTimeSpentMetricsCollection", required="items", profile="timeback",
       note="Metric dates and sub-type are camelCase in Timeback's events API and snake_case as "
            "the official client sends them; both spellings are checked.",
       items=arr(obj({"type": enum(*TIME_SPENT_METRICS), "value": NUMBER,
                      "subType": TEXT, "sub_type": TEXT,
                      "startDate": DATETIME, "start_date": DATETIME,
                      "endDate": DATETIME, "end_date": DATETIME, "extensions": MAP},
                     ["type", "value"])))

# Types 1.1 deprecated and 1.2 dropped: refused with a note rather than as unknown.
DEPRECATED = {
    "ReadingEvent": "deprecated in Caliper 1.1 and removed from 1.2: use NavigationEvent or ViewEvent",
    "OutcomeEvent": "replaced by GradeEvent in Caliper 1.1 and removed from 1.2",
    "Reading": "deprecated in Caliper 1.1 and removed from 1.2: use Document",
    "EpubVolume": "deprecated in Caliper 1.1 and removed from 1.2: use Document",
    "EpubPart": "deprecated in Caliper 1.1 and removed from 1.2: use Document",
    "EpubChapter": "deprecated in Caliper 1.1 and removed from 1.2: use Chapter",
    "EpubSubChapter": "deprecated in Caliper 1.1 and removed from 1.2: use Chapter",
}

# ----------------------------------------------------------------------------------------------
# Events
# ----------------------------------------------------------------------------------------------

# The event properties whose entity type an event type (and its action and profile) governs.
GOVERNED = ("actor", "object", "generated", "target", "referrer", "federatedSession")

EVENT_FIELDS: dict[str, Any] = {
    "@context": CONTEXT, "id": s(format="urn-uuid"), "type": TEXT, "profile": TEXT,
    "action": TEXT, "eventTime": DATETIME, "edApp": node("SoftwareApplication"),
    "group": node("Organization"), "membership": node("Membership"), "session": node("Session"),
    "extensions": MAP,
}
EVENT_REQUIRED = ("@context", "id", "type", "actor", "action", "object", "eventTime")
# What the generic Event allows for the governed properties.
EVENT_RANGES = {"actor": ("Agent",), "object": ("Entity",), "generated": ("Entity",),
                "target": ("Entity",), "referrer": ("Entity",),
                "federatedSession": ("LtiSession",)}


@dataclass(frozen=True)
class Case:
    """One way of using an event type: its actions, the profiles it belongs to and the entity
    types of its governed properties (absent: the generic Event's range)."""
    actions: tuple[str, ...]
    profiles: tuple[str, ...]
    ranges: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventType:
    name: str
    cases: tuple[Case, ...]
    profile: str = "caliper"  # caliper | timeback
    profile_required: bool = False
    accepts_general: bool = True  # GeneralProfile may govern it (every Caliper event type)

    @property
    def actions(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.cases:
            seen.update(dict.fromkeys(c.actions))
        return tuple(seen)

    @property
    def profiles(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.cases:
            seen.update(dict.fromkeys(c.profiles))
        return tuple(seen)


EVENTS: dict[str, EventType] = {}


def case(actions: str, profiles: str, required: str = "", **ranges: str) -> Case:
    return Case(tuple(actions.split()), tuple(profiles.split()),
                {k: tuple(v.split()) for k, v in ranges.items()}, tuple(required.split()))


def event(name: str, *cases: Case, profile: str = "caliper", profile_required: bool = False,
          accepts_general: bool = True) -> None:
    EVENTS[name] = EventType(name, cases, profile, profile_required, accepts_general)


# Profiles whose NavigationEvent / ViewEvent look at digital resources.
BROWSING = "ReadingProfile AssessmentProfile AssignableProfile ForumProfile MediaProfile SurveyProfile"

event("Event", case(" ".join(ACTIONS), GENERAL))
event("AnnotationEvent", case("Bookmarked Highlighted Shared Tagged", "AnnotationProfile",
                              actor="Person", object="DigitalResource", generated="Annotation",
                              target="Frame"))
event("AssessmentEvent", case("Started Paused Resumed Restarted Reset Submitted", "AssessmentProfile",
                              actor="Person", object="Assessment", generated="Attempt"))
event("AssessmentItemEvent",
      case("Started", "AssessmentProfile", actor="Person", object="AssessmentItem",
           generated="Attempt", referrer="AssessmentItem"),
      case("Skipped", "AssessmentProfile", actor="Person", object="AssessmentItem",
           generated="Attempt Response", referrer="AssessmentItem"),
      case("Completed", "AssessmentProfile", actor="Person", object="AssessmentItem",
           generated="Response", referrer="AssessmentItem"))
event("AssignableEvent", case("Activated Deactivated Started Completed Submitted Reviewed",
                              "AssignableProfile", actor="Person",
                              object="AssignableDigitalResource", generated="Attempt",
                              target="Frame"))
event("FeedbackEvent",
      case("Commented", "FeedbackProfile", actor="Person", generated="Comment", target="Frame"),
      case("Ranked", "FeedbackProfile", actor="Person", generated="Rating", target="Frame"))
event("ForumEvent", case("Subscribed Unsubscribed", "ForumProfile", actor="Person", object="Forum"))
event("GradeEvent", case("Graded", "GradingProfile", actor="Agent", object="Attempt",
                         generated="Score"))
event("MediaEvent", case(
    "Started Ended Paused Resumed Restarted ForwardedTo JumpedTo ChangedResolution ChangedSize "
    "ChangedSpeed ChangedVolume EnabledClosedCaptioning DisabledClosedCaptioning EnteredFullScreen "
    "ExitedFullScreen Muted Unmuted OpenedPopout ClosedPopout", "MediaProfile",
    actor="Person", object="MediaObject", target="MediaLocation"))
event("MessageEvent", case("Posted MarkedAsRead MarkedAsUnread", "ForumProfile", actor="Person",
                           object="Message"))
event("NavigationEvent", case("NavigatedTo", BROWSING, actor="Person",
                              object="DigitalResource SoftwareApplication",
                              target="DigitalResource",
                              referrer="DigitalResource SoftwareApplication"))
event("QuestionnaireEvent", case("Started Submitted", "SurveyProfile", actor="Person",
                                 object="Questionnaire"))
event("QuestionnaireItemEvent", case("Started Skipped Completed", "SurveyProfile", actor="Person",
                                     object="QuestionnaireItem", generated="Response"))
event("ResourceManagementEvent", case(
    "Archived Copied Created Deleted Described Downloaded Modified Printed Published Restored "
    "Retrieved Saved Unpublished Uploaded", "ResourceManagementProfile", actor="Person",
    object="DigitalResource", generated="DigitalResource"))
event("SearchEvent", case("Searched", "SearchProfile", actor="Person", generated="SearchResponse"))
event("SessionEvent",
      case("LoggedIn LoggedOut", "SessionProfile", actor="Person", object="SoftwareApplication",
           target="DigitalResource", referrer="DigitalResource SoftwareApplication"),
      case("TimedOut", "SessionProfile", actor="SoftwareApplication", object="Session"))
event("SurveyEvent", case("OptedIn OptedOut", "SurveyProfile", actor="Person", object="Survey"))
event("SurveyInvitationEvent", case("Accepted Declined Sent", "SurveyProfile", actor="Person",
                                    object="SurveyInvitation"))
event("ThreadEvent", case("MarkedAsRead MarkedAsUnread", "ForumProfile", actor="Person",
                          object="Thread"))
event("ToolLaunchEvent", case("Launched Returned", "ToolLaunchProfile", required="federatedSession",
                              actor="Person", object="SoftwareApplication",
                              generated="DigitalResource", target="Link LtiLink"))
event("ToolUseEvent", case("Used", "ToolUseProfile", actor="Person", object="SoftwareApplication",
                           target="SoftwareApplication", generated="AggregateMeasureCollection"))
event("ViewEvent",
      case("Viewed", BROWSING, actor="Person", object="DigitalResource"),
      case("Viewed", "GradingProfile", actor="Person", object="Result"))

# Timeback profile events: the profile and the generated metrics are required.
event("ActivityEvent", case("Completed", TIMEBACK_PROFILE, required="generated",
                            actor="TimebackUser", object="TimebackActivityContext",
                            generated="TimebackActivityMetricsCollection"),
      profile="timeback", profile_required=True, accepts_general=False)
event("TimeSpentEvent", case("SpentTime", TIMEBACK_PROFILE, required="generated",
                             actor="TimebackUser", object="TimebackActivityContext",
                             generated="TimebackTimeSpentMetricsCollection"),
      profile="timeback", profile_required=True, accepts_general=False)

# ----------------------------------------------------------------------------------------------
# Where Timeback's published schemas, 1EdTech's Caliper 1.2 and this validator differ
# (shape of an x-tb-differences entry, for the Caliper spec generator to carry)
# ----------------------------------------------------------------------------------------------

DIFFERENCES = [
    {"topic": "event and entity properties beyond the model",
     "timeback": "caliper-api.yaml closes most event and entity schemas (additionalProperties: false)",
     "oneEdTech": "open: JSON-LD documents may carry terms of extension contexts, and the 1.2 "
                  "fixtures do (e.g. scoreType on a Score from Timeback's own client)",
     "sandbox": "open, as Caliper; only declared properties are checked"},
    {"topic": "Person",
     "timeback": "caliper-api.yaml requires extensions.email on every Person",
     "oneEdTech": "no such requirement; the 1.2 fixtures have Persons without extensions",
     "sandbox": "not required (TimebackUser, the Timeback profile's actor, requires email)"},
    {"topic": "profile of generic events",
     "timeback": "caliper-api.yaml ties each event type to one profile (ViewEvent: GradingProfile) "
                 "and requires profile",
     "oneEdTech": "profile is optional; NavigationEvent and ViewEvent belong to several profiles; "
                  "GeneralProfile may govern any event type",
     "sandbox": "as 1EdTech for Caliper events; required (TimebackProfile) for ActivityEvent and "
                "TimeSpentEvent"},
    {"topic": "event id",
     "timeback": "pattern ^urn:uuid:(.*)$",
     "oneEdTech": "a UUID expressed as a URN (RFC 4122)",
     "sandbox": "urn:uuid: followed by a UUID (rule caliper.event.id-uuid)"},
    {"topic": "Decimal values written as integers (maxScore: 50)",
     "timeback": "type number; its examples and official client send integers",
     "oneEdTech": "Decimal has a fractional part; four commonErrorFixtures refuse integers",
     "sandbox": "accepted; refused only by `tbconform validate --strict` (caliper.value.decimal)"},
    {"topic": "TimebackActivityContext.subject",
     "timeback": "events API: Science, Math, Reading, Language, Social Studies, None; the official "
                 "client adds Vocabulary, Writing, FastMath, Other",
     "oneEdTech": "(Timeback profile only)",
     "sandbox": "the union, so that every subject the official client sends is accepted"},
    {"topic": "time-spent metric dates",
     "timeback": "events API: subType, startDate, endDate; the official client sends sub_type, "
                 "start_date, end_date",
     "oneEdTech": "(Timeback profile only)",
     "sandbox": "both spellings accepted and checked"},
]

# ----------------------------------------------------------------------------------------------
# Derived tables
# ----------------------------------------------------------------------------------------------


def ancestors(name: str) -> list[str]:
    """The type itself, then every supertype (depth first, each once)."""
    out: list[str] = []

    def visit(n: str) -> None:
        if n in out:
            return
        out.append(n)
        for p in ENTITIES[n].parents:
            visit(p)
    visit(name)
    return out


def closure(types: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Every entity type that is one of `types` or a subtype of one, in declaration order."""
    wanted = set(types)
    return tuple(n for n in ENTITIES if wanted & set(ancestors(n)))


@dataclass
class Flat:
    """An entity type with its inherited fields resolved."""
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)


def flatten(name: str) -> Flat:
    flat = Flat(name)
    for n in reversed(ancestors(name)):  # supertypes first, so subtypes override
        e = ENTITIES[n]
        flat.fields.update(e.fields)
        flat.required += [r for r in e.required if r not in flat.required]
    return flat


def event_cases(name: str, action: str, profile: str | None) -> list[Case]:
    """The cases of an event type that govern (action, profile); GeneralProfile and an absent
    profile select every case of the action."""
    et = EVENTS[name]
    cases = [c for c in et.cases if action in c.actions]
    if profile is None or (profile == GENERAL and et.accepts_general):
        return cases
    return [c for c in cases if profile in c.profiles]


def ranges_of(cases: list[Case]) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Union of the governed ranges and of the required properties of several cases."""
    ranges: dict[str, tuple[str, ...]] = {}
    required: dict[str, None] = {}
    for prop in GOVERNED:
        seen: dict[str, None] = {}
        for c in cases:
            seen.update(dict.fromkeys(c.ranges.get(prop, EVENT_RANGES[prop])))
        ranges[prop] = tuple(seen) if cases else EVENT_RANGES[prop]
    for c in cases:
        required.update(dict.fromkeys(c.required))
    return ranges, tuple(required)


ENTITY_TYPES = tuple(ENTITIES)
EVENT_TYPES = tuple(EVENTS)
